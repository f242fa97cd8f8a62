// Run inside a container by t_bridge.sh (busybox's nc has no UDP): prints
// "ready", then each datagram received on the UDP port argv[1], a line each.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	char buf[2048];
	int s;

	if (argc != 2) {
		fprintf(stderr, "usage: udp-listen PORT\n");
		return 2;
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("udp-listen");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		ssize_t n = recv(s, buf, sizeof(buf), 0);

		if (n < 0) {
			perror("recv");
			return 1;
		}
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
	}
}
