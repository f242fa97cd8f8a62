// A static probe run inside test containers by t_security.sh: tries each
// named operation and prints "NAME=OK" or "NAME=<errno name>", so tests can
// tell "refused by seccomp/capabilities" (EPERM) from "allowed but given bad
// arguments" (EINVAL, EFAULT, ...). It never does anything harmful even when
// allowed: every call gets arguments the kernel rejects after its checks.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static long keyctl32(void) {
    // The i386 entry point (int $0x80, keyctl = 288 there): a filter that
    // covers only x86-64 numbers would let this through.
    long ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(288), "b"(0), "c"(-3), "d"(0) : "memory");
    if (ret < 0 && ret > -4096) {
        errno = (int)-ret;
        return -1;
    }
    return ret;
}

static long clone_user(void) {
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0) _exit(0);
    if (pid > 0) waitpid((pid_t)pid, NULL, 0);
    return pid < 0 ? -1 : 0;
}

// mknod then open (the result is the open's: ENOENT when mknod was refused).
static long open_new_node(const char* path, mode_t type, unsigned major, unsigned minor, int flags) {
    (void)mknod(path, type | 0600, makedev(major, minor));
    int fd = open(path, flags | O_NONBLOCK);
    int saved = errno;
    if (fd >= 0) close(fd);
    unlink(path);
    errno = saved;
    return fd < 0 ? -1 : 0;
}

static long run(const char* name) {
    if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 0);
    if (!strcmp(name, "keyctl32")) return keyctl32();
    if (!strcmp(name, "add_key")) return syscall(SYS_add_key, "user", "minirt-probe", "x", 1, -2);
    if (!strcmp(name, "request_key")) return syscall(SYS_request_key, "user", "minirt-probe", NULL, 0);
    if (!strcmp(name, "bpf")) return syscall(SYS_bpf, 0, NULL, 0);
    if (!strcmp(name, "perf_event_open")) return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
    if (!strcmp(name, "init_module")) return syscall(SYS_init_module, NULL, 0, "");
    if (!strcmp(name, "finit_module")) return syscall(SYS_finit_module, -1, "", 0);
    if (!strcmp(name, "delete_module")) return syscall(SYS_delete_module, "minirt_probe_none", 0);
    if (!strcmp(name, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0xffffffffUL);
    if (!strcmp(name, "reboot")) return syscall(SYS_reboot, 0, 0, 0, NULL);  // bad magic: EINVAL if allowed
    if (!strcmp(name, "swapon")) return syscall(SYS_swapon, "/minirt-probe-none", 0);
    if (!strcmp(name, "mount")) return mount("none", "/tmp", "tmpfs", 0, NULL);
    if (!strcmp(name, "umount")) return umount2("/proc", MNT_DETACH);
    if (!strcmp(name, "pivot_root")) return syscall(SYS_pivot_root, "/minirt-probe-none", "/minirt-probe-none");
    if (!strcmp(name, "unshare_user")) return unshare(CLONE_NEWUSER);
    if (!strcmp(name, "clone_user")) return clone_user();
    if (!strcmp(name, "setns_user")) {
        int fd = open("/proc/self/ns/user", O_RDONLY);
        return setns(fd, CLONE_NEWUSER);  // our own: EINVAL if allowed
    }
    if (!strcmp(name, "open_by_handle_at")) return syscall(SYS_open_by_handle_at, AT_FDCWD, NULL, 0);
    if (!strcmp(name, "io_uring_setup")) return syscall(SYS_io_uring_setup, 1, NULL);
    if (!strcmp(name, "clone3")) return syscall(SYS_clone3, NULL, 0);
    if (!strcmp(name, "tiocsti")) return ioctl(0, TIOCSTI, "x");
    if (!strcmp(name, "mknod")) return mknod("/tmp/minirt-probe-sda", S_IFBLK | 0600, makedev(8, 0));
    // A device node made in the container's /dev (a tmpfs without nodev),
    // then opened: the allow-list must refuse the open even where mknod works.
    if (!strcmp(name, "dev_loop_open")) return open_new_node("/dev/minirt-probe-loop", S_IFBLK, 7, 0, O_RDONLY);
    if (!strcmp(name, "dev_kmsg_open")) return open_new_node("/dev/minirt-probe-kmsg", S_IFCHR, 1, 11, O_WRONLY);
    if (!strcmp(name, "dev_mem_open")) return open_new_node("/dev/minirt-probe-mem", S_IFCHR, 1, 1, O_RDONLY);
    if (!strcmp(name, "settimeofday")) return syscall(SYS_settimeofday, NULL, NULL);
    if (!strcmp(name, "chroot_escape_stays_inside")) {
        // The classic escape: chroot into a subdirectory while the cwd stays
        // outside it, then walk ".." and chroot there. After pivot_root the
        // walk ends at the container's root, never the host's.
        mkdir("/tmp/jail", 0755);
        if (chroot("/tmp/jail") < 0) return -1;
        for (int i = 0; i < 64; ++i) (void)chdir("..");
        if (chroot(".") < 0) return -1;
        // OK: the marker the test made in the container's root is still
        // there, so the walk did not leave the container.
        return access("/etc/minirt-ctr-marker", F_OK);
    }
    errno = ENOSYS;
    fprintf(stderr, "probe: unknown operation %s\n", name);
    return -1;
}

int main(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        errno = 0;
        long r = run(argv[i]);
        if (r >= 0) printf("%s=OK\n", argv[i]);
        else printf("%s=%s\n", argv[i], strerrorname_np(errno));
        fflush(stdout);
    }
    return 0;
}
