// Run inside a container by t_copy.sh: what a hostile container does to a
// `cp` writing into it. For each file DIR/fNNNNN as soon as it appears (a
// FIFO the copy just made), a symlink to TARGET is renamed over it, so that
// whatever cp does next by that name lands on TARGET (a host path).
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char f[32], s[32];
	struct stat st;
	long i, n, spin;

	if (argc != 4) {
		fprintf(stderr, "usage: copy-racer DIR N TARGET\n");
		return 2;
	}
	n = strtol(argv[2], NULL, 10);
	if (chdir(argv[1]) < 0)
		return 1;
	for (i = 0; i < n; i++) {
		snprintf(s, sizeof(s), "s%05ld", i);
		if (symlink(argv[3], s) < 0)
			return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (i = 0; i < n; i++) {
		snprintf(f, sizeof(f), "f%05ld", i);
		snprintf(s, sizeof(s), "s%05ld", i);
		for (spin = 0; spin < 20000000; spin++)
			if (lstat(f, &st) == 0 && S_ISFIFO(st.st_mode))
				break;
		rename(s, f);
	}
	return 0;
}
