/*
 * subreaper: run a command as a child subreaper and reap every orphan that
 * lands on us until the command and all its descendants are gone.
 *
 * minirt's shims are daemonised: once the CLI exits, they are reparented to
 * the nearest subreaper or to PID 1. A real init reaps them; the PID 1 of
 * some sandboxes does not, which would leave zombies that are not minirt's
 * fault. test/run runs the whole suite under this tool so that "no zombies"
 * checks measure minirt and nothing else.
 *
 * Usage: subreaper [--linger SECS] COMMAND [ARGS...]
 * Exits with the command's status. After the command ends it keeps reaping
 * for at most SECS seconds (default 30) while descendants remain.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t forwarded;
static pid_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
	forwarded = sig;
}

int main(int argc, char **argv)
{
	int linger = 30, argi = 1, status = 0, rc = 1;
	time_t deadline = 0;

	if (argc > 2 && strcmp(argv[1], "--linger") == 0) {
		linger = atoi(argv[2]);
		argi = 3;
	}
	if (argi >= argc) {
		fprintf(stderr, "usage: subreaper [--linger SECS] COMMAND [ARGS...]\n");
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		perror("subreaper: prctl");
		return 1;
	}
	child_pid = fork();
	if (child_pid < 0) {
		perror("subreaper: fork");
		return 1;
	}
	if (child_pid == 0) {
		execvp(argv[argi], argv + argi);
		fprintf(stderr, "subreaper: %s: %s\n", argv[argi], strerror(errno));
		_exit(127);
	}
	signal(SIGINT, forward);
	signal(SIGTERM, forward);
	for (;;) {
		pid_t pid;

		if (deadline) {
			pid = waitpid(-1, &status, WNOHANG);
			if (pid == 0) {
				if (time(NULL) >= deadline)
					break;
				usleep(20000);
				continue;
			}
		} else {
			pid = waitpid(-1, &status, 0);
		}
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;  /* ECHILD: nothing left */
		}
		if (pid == child_pid) {
			rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
			deadline = time(NULL) + linger;
		}
	}
	return rc;
}
