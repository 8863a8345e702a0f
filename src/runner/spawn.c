/*
 * spawn.c - run one child process with a timeout and bounded output,
 * leaving nothing of it behind.
 *
 * Every child runs under a keeper: a forked copy of perfguard that makes
 * itself a child subreaper (PR_SET_CHILD_SUBREAPER), forks the child, and
 * waits for it. When the child exits, the keeper kills whatever the child
 * left running - its process group, and every orphan that was reparented
 * to the keeper, including those that called setsid() - reaps them all,
 * and only then reports the child's status and rusage on a pipe. So the
 * child's end is the end of the run (a grandchild that keeps writing to
 * the output pipe cannot stretch it into a timeout), and nothing a child
 * started outlives it. perfguard holds the write end of a control pipe:
 * closing it (timeout, Ctrl-C) or dying (even by SIGKILL) makes the
 * keeper kill the child and clean up the same way; the child itself also
 * has the keeper's death as its parent-death signal (SIGKILL).
 *
 * A captured child gets its own process group and its stdout and stderr
 * go to one pipe whose bytes are kept in a bounded tail; a passthrough
 * child (interactive `perfguard profile`) stays in our group and keeps
 * the terminal. CPU time comes from the keeper's wait4. This file knows
 * nothing about Python; trial.c and python.c build on it.
 */
#include "spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the keeper tells perfguard once the child and its kin are gone. */
struct keeper_report {
	int status; /* wait status of the child */
	int64_t wall_ns;
	struct rusage ru;
};

/* In the child: never returns. */
static void exec_child(const struct spawn_spec *s, int out_fd, pid_t keeper)
{
	if (!s->passthrough)
		setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != keeper)
		_exit(126); /* the keeper died before we could see it */
	pg_signals_inherited();
	signal(SIGCHLD, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
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

/*
 * SIGKILL every process whose parent is `parent`; how many were found,
 * or -1 when /proc cannot be read.
 */
static int kill_children_of(pid_t parent)
{
	DIR *d = opendir("/proc");
	if (!d)
		return -1;
	int found = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		char path[64], buf[512];
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* "pid (comm) state ppid ...": comm may hold anything. */
		char *paren = strrchr(buf, ')');
		char state;
		long ppid;
		if (paren && sscanf(paren + 1, " %c %ld", &state, &ppid) == 2 &&
		    ppid == (long)parent) {
			kill((pid_t)pid, SIGKILL);
			found++;
		}
	}
	closedir(d);
	return found;
}

static int sigchld_pipe[2] = {-1, -1};

static void on_sigchld(int sig)
{
	(void)sig;
	int saved = errno;
	ssize_t n = write(sigchld_pipe[1], "c", 1);
	(void)n;
	errno = saved;
}

/* The keeper: runs the child, cleans up after it, reports. Never returns. */
static void keeper(const struct spawn_spec *s, int out_fd, int ctl_fd,
		   int report_fd)
{
	pid_t self = getpid();
	/* perfguard decides, through ctl_fd: a signal to the whole process
	 * group must not kill the keeper before it has cleaned up. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (pipe2(sigchld_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		_exit(120);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigchld;
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);

	int64_t start = pg_clock_monotonic_ns();
	pid_t pid = fork();
	if (pid < 0)
		_exit(121);
	if (pid == 0) {
		close(sigchld_pipe[0]);
		close(sigchld_pipe[1]);
		exec_child(s, out_fd, self);
	}
	bool own_group = !s->passthrough;
	if (own_group)
		setpgid(pid, pid); /* also here: no race with kill(-pid) */
	if (out_fd >= 0)
		close(out_fd);

	struct keeper_report rep;
	memset(&rep, 0, sizeof(rep));
	bool killed = false;
	for (;;) {
		pid_t w = wait4(pid, &rep.status, WNOHANG, &rep.ru);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			_exit(122);
		struct pollfd pfd[2] = {
		    {.fd = killed ? -1 : ctl_fd, .events = POLLIN},
		    {.fd = sigchld_pipe[0], .events = POLLIN},
		};
		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[0].revents) {
			/* perfguard closed the pipe (or died): stop the child. */
			if (own_group)
				kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			killed = true;
		}
		char drain[64];
		while (read(sigchld_pipe[0], drain, sizeof(drain)) > 0)
			;
	}
	rep.wall_ns = pg_clock_monotonic_ns() - start;
	/* Whatever the child left: its group, then every orphan that came
	 * to us, until no child of ours is left. */
	if (own_group)
		kill(-pid, SIGKILL);
	for (;;) {
		/* Without /proc orphans cannot be found: reap what has died
		 * and stop rather than wait for one that lives on. */
		int flags = kill_children_of(self) < 0 ? WNOHANG : 0;
		pid_t w = waitpid(-1, NULL, flags);
		if ((w < 0 && errno == ECHILD) || w == 0)
			break;
	}
	ssize_t n = write(report_fd, &rep, sizeof(rep));
	_exit(n == (ssize_t)sizeof(rep) ? 0 : 123);
}

/* Read what is in fd into tail; false at end of file or on an error. */
static bool read_some(int fd, struct pg_tail *tail)
{
	char chunk[65536];
	ssize_t got = read(fd, chunk, sizeof(chunk));
	if (got > 0) {
		pg_tail_add(tail, chunk, (size_t)got);
		return true;
	}
	return got < 0 && (errno == EINTR || errno == EAGAIN);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Our ends of the keeper's pipes, and what came through them. */
struct watch {
	int out; /* the child's output (-1 with passthrough or at its end) */
	int ctl; /* closing it tells the keeper to kill the child */
	int rep; /* the keeper's report */
	struct pg_tail tail;
	struct keeper_report kr;
	bool reported;
};

/* The three pipes (no output pipe with passthrough), close-on-exec. */
static int open_pipes(bool passthrough, int out[2], int ctl[2], int rep[2])
{
	if ((passthrough || pipe2(out, O_CLOEXEC) == 0) &&
	    pipe2(ctl, O_CLOEXEC) == 0 && pipe2(rep, O_CLOEXEC) == 0)
		return 0;
	int rc = pg_error_errno(PG_EIO, "cannot create a pipe");
	for (int i = 0; i < 2; i++) {
		close_fd(&out[i]);
		close_fd(&ctl[i]);
		close_fd(&rep[i]);
	}
	return rc;
}

/* Fork the keeper (which runs the child); keep our ends in w. */
static int start_keeper(const struct spawn_spec *s, struct watch *w,
			pid_t *kpid)
{
	int out[2] = {-1, -1}, ctl[2] = {-1, -1}, rep[2] = {-1, -1};
	int rc = open_pipes(s->passthrough, out, ctl, rep);
	if (rc)
		return rc;
	fflush(stdout);
	fflush(stderr);
	*kpid = fork();
	if (*kpid == 0) {
		close_fd(&out[0]);
		close_fd(&ctl[1]);
		close_fd(&rep[0]);
		keeper(s, out[1], ctl[0], rep[1]);
	}
	close_fd(&out[1]);
	close_fd(&ctl[0]);
	close_fd(&rep[1]);
	w->out = out[0];
	w->ctl = ctl[1];
	w->rep = rep[0];
	if (*kpid < 0) {
		close_fd(&w->out);
		close_fd(&w->ctl);
		close_fd(&w->rep);
		return pg_error_errno(PG_EIO, "cannot fork");
	}
	return 0;
}

/*
 * Until the keeper reports: collect output, and on an interrupt (PG_EINTR)
 * or past the deadline (*timed_out) have it kill the child.
 */
static int watch_child(struct watch *w, int64_t deadline, bool *timed_out)
{
	int rc = 0;
	while (w->rep >= 0) {
		if (w->ctl >= 0 && pg_interrupted) {
			close_fd(&w->ctl); /* the keeper kills the child */
			rc = pg_error_set(PG_EINTR, "interrupted");
		} else if (w->ctl >= 0 && deadline &&
			   pg_clock_monotonic_ns() > deadline) {
			close_fd(&w->ctl);
			*timed_out = true;
		}
		struct pollfd pfd[2] = {
		    {.fd = w->out, .events = POLLIN},
		    {.fd = w->rep, .events = POLLIN},
		};
		if (poll(pfd, 2, 50) <= 0)
			continue;
		if (pfd[0].revents && !read_some(w->out, &w->tail))
			close_fd(&w->out);
		if (pfd[1].revents) {
			ssize_t n = read(w->rep, &w->kr, sizeof(w->kr));
			if (n < 0 && errno == EINTR)
				continue;
			w->reported = n == (ssize_t)sizeof(w->kr);
			close_fd(&w->rep);
		}
	}
	return rc;
}

/* Every writer of the output pipe is gone: read it to its end. */
static void drain_output(struct watch *w)
{
	while (w->out >= 0) {
		struct pollfd pfd = {.fd = w->out, .events = POLLIN};
		if (poll(&pfd, 1, 1000) <= 0 || !read_some(w->out, &w->tail))
			close_fd(&w->out);
	}
}

/* Times, exit code and output tail into r. */
static void fill_result(const struct spawn_spec *s, struct watch *w,
			int64_t start, struct spawn_result *r)
{
	const struct keeper_report *kr = &w->kr;
	r->wall_ns =
	    w->reported ? kr->wall_ns : pg_clock_monotonic_ns() - start;
	r->cpu_ns =
	    ((int64_t)kr->ru.ru_utime.tv_sec + kr->ru.ru_stime.tv_sec) *
		1000000000 +
	    ((int64_t)kr->ru.ru_utime.tv_usec + kr->ru.ru_stime.tv_usec) * 1000;
	if (w->reported) {
		if (WIFEXITED(kr->status))
			r->exit_code = WEXITSTATUS(kr->status);
		else if (WIFSIGNALED(kr->status))
			r->exit_code = -WTERMSIG(kr->status);
	}
	if (!s->passthrough) {
		r->output = pg_tail_string(&w->tail);
		r->output_len = w->tail.len;
		r->output_dropped = w->tail.dropped;
	}
}

int pg_spawn(const struct spawn_spec *s, struct spawn_result *r)
{
	memset(r, 0, sizeof(*r));
	struct watch w;
	memset(&w, 0, sizeof(w));
	pid_t kpid;
	int rc = start_keeper(s, &w, &kpid);
	if (rc)
		return rc;
	int64_t start = pg_clock_monotonic_ns();
	pg_tail_init(&w.tail, s->tail_bytes ? s->tail_bytes : 1);
	int64_t deadline =
	    s->timeout_ms > 0 ? start + s->timeout_ms * 1000000 : 0;
	rc = watch_child(&w, deadline, &r->timed_out);
	close_fd(&w.ctl);
	while (waitpid(kpid, NULL, 0) < 0 && errno == EINTR)
		;
	drain_output(&w);
	if (!w.reported && !rc)
		rc = pg_error_set(PG_EIO, "the process keeping %s failed",
				  s->argv[0]);
	fill_result(s, &w, start, r);
	pg_tail_release(&w.tail);
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
