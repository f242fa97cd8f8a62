#!/usr/bin/env python3
"""A --console-socket peer, as conmon is one: accept one connection, take
the pty master the runtime sends (SCM_RIGHTS), copy what the container
writes to our stdout until it hangs up. Optionally types INPUT into it.

Usage: console_socket.py SOCKET_PATH [INPUT]
"""
import os
import socket
import sys


def main():
    path = sys.argv[1]
    typed = sys.argv[2].encode() if len(sys.argv) > 2 else b""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    conn, _ = server.accept()
    _, fds, _, _ = socket.recv_fds(conn, 1024, 1)
    if not fds:
        print("console_socket: no fd received", file=sys.stderr)
        return 1
    master = fds[0]
    if typed:
        os.write(master, typed)
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: every holder of the slave has gone
            break
        if not data:
            break
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
