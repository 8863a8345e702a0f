/*
 * spawn.c - run one child process with a timeout and bounded output.
 *
 * A captured child gets its own process group, so a timeout or Ctrl-C
 * kills it and everything it forked; a passthrough child (interactive
 * `perfguard profile`) stays in ours and keeps the terminal. Its stdout and stderr go to one pipe whose
 * bytes are kept in a bounded tail (or are passed through untouched).
 * CPU time comes from wait4's rusage. This file knows nothing about
 * Python; trial.c and python.c build on it.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

volatile int pg_runner_interrupted;

static void on_signal(int sig)
{
	pg_runner_interrupted = sig;
}

void pg_runner_install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* In the child: never returns. */
static void exec_child(const struct spawn_spec *s, int out_fd)
{
	if (!s->passthrough)
		setpgid(0, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	if (out_fd >= 0) {
		dup2(out_fd, STDOUT_FILENO);
		dup2(out_fd, STDERR_FILENO);
		close(out_fd);
	}
	int devnull = s->passthrough ? -1 : open("/dev/null", O_RDONLY);
	if (devnull >= 0) {
		dup2(devnull, STDIN_FILENO);
		close(devnull);
	}
	if (s->cwd && chdir(s->cwd) != 0) {
		fprintf(stderr, "perfguard: cannot enter %s: %s\n", s->cwd,
			strerror(errno));
		_exit(126);
	}
	for (size_t i = 0; i < s->nenv; i++)
		setenv(s->env[i].name, s->env[i].value, 1);
	execvp(s->argv[0], (char *const *)s->argv);
	fprintf(stderr, "perfguard: cannot run %s: %s\n", s->argv[0],
		strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* A captured child leads its own group; a passthrough one shares ours. */
static void kill_child(pid_t pid, bool own_group)
{
	if (own_group)
		kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

int pg_spawn(const struct spawn_spec *s, struct spawn_result *r)
{
	memset(r, 0, sizeof(*r));
	int fds[2] = {-1, -1};
	if (!s->passthrough && pipe2(fds, O_CLOEXEC) != 0)
		return pg_error_errno(PG_EIO, "cannot create a pipe");
	fflush(stdout);
	fflush(stderr);
	int64_t start = pg_clock_monotonic_ns();
	pid_t pid = fork();
	if (pid < 0) {
		if (fds[0] >= 0) {
			close(fds[0]);
			close(fds[1]);
		}
		return pg_error_errno(PG_EIO, "cannot fork");
	}
	if (pid == 0) {
		if (fds[0] >= 0)
			close(fds[0]);
		exec_child(s, fds[1]);
	}
	bool own_group = !s->passthrough;
	if (own_group)
		setpgid(pid, pid); /* also here: no race with kill(-pid) */
	if (fds[1] >= 0)
		close(fds[1]);

	struct pg_tail tail;
	pg_tail_init(&tail, s->tail_bytes ? s->tail_bytes : 1);
	int64_t deadline =
	    s->timeout_ms > 0 ? start + s->timeout_ms * 1000000 : 0;
	int status = 0;
	bool exited = false;
	int rc = 0;
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	while (!exited) {
		if (pg_runner_interrupted) {
			kill_child(pid, own_group);
			rc = pg_error_set(PG_EINTR, "interrupted");
		} else if (deadline && pg_clock_monotonic_ns() > deadline) {
			kill_child(pid, own_group);
			r->timed_out = true;
		}
		if (fds[0] >= 0) {
			struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
			int n = poll(&pfd, 1, 50);
			if (n > 0) {
				char chunk[65536];
				ssize_t got =
				    read(fds[0], chunk, sizeof(chunk));
				if (got > 0) {
					pg_tail_add(&tail, chunk, (size_t)got);
					continue;
				}
				if (got == 0 || errno != EINTR) {
					close(fds[0]);
					fds[0] = -1;
				}
			}
		} else {
			usleep(20000);
		}
		pid_t w = wait4(pid, &status, WNOHANG, &ru);
		if (w == pid)
			exited = true;
		else if (w < 0 && errno != EINTR) {
			rc = pg_error_errno(PG_EIO, "waiting for %s",
					    s->argv[0]);
			break;
		}
	}
	/* Drain what is left, then make sure nothing of the group survives. */
	while (fds[0] >= 0) {
		char chunk[65536];
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
		if (poll(&pfd, 1, 0) <= 0)
			break;
		ssize_t got = read(fds[0], chunk, sizeof(chunk));
		if (got <= 0)
			break;
		pg_tail_add(&tail, chunk, (size_t)got);
	}
	if (fds[0] >= 0)
		close(fds[0]);
	if (own_group)
		kill(-pid, SIGKILL); /* whatever the script forked */

	r->wall_ns = pg_clock_monotonic_ns() - start;
	r->cpu_ns =
	    ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	    ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
	if (exited) {
		if (WIFEXITED(status))
			r->exit_code = WEXITSTATUS(status);
		else if (WIFSIGNALED(status))
			r->exit_code = -WTERMSIG(status);
	}
	if (!s->passthrough) {
		r->output = pg_tail_string(&tail);
		r->output_dropped = tail.dropped;
	}
	pg_tail_release(&tail);
	return rc;
}

int pg_runner_capture(const char *const *argv, const char *cwd,
		      int64_t timeout_ms, char **out, int *exit_code)
{
	struct spawn_spec s = {
	    .argv = argv,
	    .cwd = cwd,
	    .timeout_ms = timeout_ms,
	    .tail_bytes = 1024 * 1024,
	};
	struct spawn_result r;
	int rc = pg_spawn(&s, &r);
	if (rc) {
		free(r.output);
		return rc;
	}
	*exit_code = r.timed_out ? -SIGKILL : r.exit_code;
	*out = r.output;
	return 0;
}
