/*
 * cmd_record.c - `perfguard record [opts] -- COMMAND...`: run a Python
 * program (a script, `-m module`, or any command that starts Python, such
 * as a server) with the production sampler in every Python process it
 * starts or forks, and turn each window the sampler writes into a pprof
 * file and a results file in --out, keeping the directory under
 * --max-size (oldest windows first).
 *
 * The sampler is loaded through PYTHONPATH (hooks/record/sitecustomize.py)
 * and configured by PERFGUARD_SAMPLE_* variables; it writes raw windows
 * into this recording's own spool, OUT/.spool/<record's pid>, which this
 * process converts while the program runs and once more after it ends.
 * Several recordings may share OUT: each converts only its own spool,
 * held by an flock on its .lock. Each process of the program holds its
 * own .live.<pid> there (perfguard.sampler.hold_spool): record names
 * the processes that outlive the program and keeps their spool, and the
 * spools of recordings that died or were outlived (their lock free) are
 * converted by the next one to start or end, and removed once nothing
 * samples into them.
 * SIGINT, SIGTERM and SIGHUP are passed on to the program; its end by
 * such a signal is a normal end of the recording.
 * The windows are labelled with the commit (--commit, else HEAD, marked
 * dirty when tracked files differ from it); record warns at start when
 * they will carry no commit or a dirty one, which ingest refuses.
 */
#include "cli.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

enum record_opt {
	OPT_RATE = CLI_OPT_ID_COMMAND,
	OPT_MODE,
	OPT_WINDOW,
	OPT_OUT,
	OPT_MAX_SIZE,
	OPT_COMMIT,
	OPT_SERVICE,
	OPT_PYTHON,
};

static const struct cli_opt record_options[] = {
    {OPT_RATE, "rate", 0, "HZ", "samples per second (default 100)"},
    {OPT_MODE, "mode", 0, "MODE",
     "cpu (threads that ran) | wall (every thread,\nidle ones marked) "
     "(default cpu)"},
    {OPT_WINDOW, "window", 0, "DUR", "one profile per DUR (default 60s)"},
    {OPT_OUT, "out", 0, "DIR",
     "where the windows go (default perfguard-profiles)"},
    {OPT_MAX_SIZE, "max-size", 0, "SIZE",
     "keep DIR's windows under SIZE (e.g. 500M),\noldest removed first"},
    {OPT_COMMIT, "commit", 0, "REF",
     "the deployed commit (default HEAD, marked dirty\nwith uncommitted "
     "changes; outside a git\nrepository, a full 40-hex-digit id)"},
    {OPT_SERVICE, "service", 0, "NAME",
     "the service's name (default the script's)"},
    {OPT_PYTHON, "python", 0, "PATH",
     "interpreter for a script or -m (default python3)"},
    {0},
};

static const struct cli_opt_table record_table = {"Options:", record_options};

static int cmd_record(int argc, char **argv);

const struct cli_command cli_cmd_record = {
    .name = "record",
    .fn = cmd_record,
    .summary = "run a program with the production sampler, one profile "
	       "per window",
    .usage = "perfguard record [options] -- COMMAND...\n",
    .notes = "COMMAND is a script (app.py ARGS), -m MODULE ARGS, or any "
	     "command that\nstarts Python (a server); forked workers are "
	     "sampled too. Each window\nbecomes DIR/<start ms>-<pid>.pb.gz "
	     "(pprof) and .json (results).\n",
    .tables = {&record_table, &cli_common_table},
    .stop_at_operand = true,
};

struct record_opts {
	struct cli_common common;
	int rate_hz;
	const char *mode;
	double window_s;
	const char *out;
	uint64_t max_bytes;
	const char *commit;
	const char *service;
	const char *python;
};

/* The commit record labels its windows with, and what it says of it. */
struct commit_label {
	char *commit; /* 40 hex digits, or NULL: no label */
	bool dirty;   /* HEAD's, with tracked files changed: not its code */
	bool unborn;  /* no label: a repository without commits */
};

int cli_parse_duration_s(const char *opt, const char *arg, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	double unit = 1;
	if (!strcmp(end, "ms"))
		unit = 1e-3;
	else if (!strcmp(end, "s") || !*end)
		unit = 1;
	else if (!strcmp(end, "m"))
		unit = 60;
	else if (!strcmp(end, "h"))
		unit = 3600;
	else
		end = NULL;
	if (errno || !end || end == arg || !(v > 0) || v * unit > 86400 * 7)
		return pg_error_set(PG_EUSAGE,
				    "%s takes a duration such as 500ms, 60s, "
				    "5m or 1h, not '%s'",
				    opt, arg);
	*out = v * unit;
	return 0;
}

int cli_parse_size(const char *opt, const char *arg, uint64_t *out)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	double unit = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		unit = 1024;
		end++;
		break;
	case 'M':
		unit = 1024.0 * 1024;
		end++;
		break;
	case 'G':
		unit = 1024.0 * 1024 * 1024;
		end++;
		break;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (errno || *end || end == arg || !(v > 0) || v * unit > 1e15)
		return pg_error_set(PG_EUSAGE,
				    "%s takes a size such as 500K, 100M or 2G, "
				    "not '%s'",
				    opt, arg);
	*out = (uint64_t)(v * unit);
	return 0;
}

static volatile sig_atomic_t got_signal;
static volatile pid_t child_pid;

/* Pass sig on to the program. A terminal's signal (Ctrl-C, Ctrl-\, a
 * resize: SI_KERNEL) went to its whole foreground process group, the
 * program's too when it is record's: passed on, it came twice (a second
 * KeyboardInterrupt in the first one's cleanup). */
static void on_signal(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	got_signal = sig;
	pid_t pid = child_pid;
	if (pid > 0 &&
	    !(si && si->si_code == SI_KERNEL && getpgid(pid) == getpgrp()))
		kill(pid, sig);
}

/* The argv to exec: a script or -m runs under the interpreter. */
static char **program_argv(char **cmd, int n, const char *python)
{
	bool wrap = pg_str_ends(cmd[0], ".py") || !strcmp(cmd[0], "-m") ||
		    !strcmp(cmd[0], "-c");
	char **argv = pg_calloc((size_t)n + 2, sizeof(*argv));
	int k = 0;
	if (wrap)
		argv[k++] = (char *)python;
	for (int i = 0; i < n; i++)
		argv[k++] = cmd[i];
	return argv;
}

static void set_env(const struct record_opts *o, const char *spool,
		    const char *record_dir, const struct commit_label *label,
		    const char *root)
{
	char buf[64];
	const char *pp = getenv("PYTHONPATH");
	char *path = pp && *pp ? pg_asprintf("%s:%s", record_dir, pp)
			       : pg_strdup(record_dir);
	setenv("PYTHONPATH", path, 1);
	free(path);
	char *abs_spool = pg_realpath(spool); /* the program may chdir */
	setenv("PERFGUARD_SAMPLE_OUT", abs_spool ? abs_spool : spool, 1);
	free(abs_spool);
	snprintf(buf, sizeof(buf), "%d", o->rate_hz);
	setenv("PERFGUARD_SAMPLE_RATE", buf, 1);
	setenv("PERFGUARD_SAMPLE_MODE", o->mode, 1);
	snprintf(buf, sizeof(buf), "%.3f", o->window_s);
	setenv("PERFGUARD_SAMPLE_WINDOW", buf, 1);
	if (label->commit)
		setenv("PERFGUARD_COMMIT", label->commit, 1);
	/* never an outer recording's: the sampler marks the windows dirty */
	if (label->dirty)
		setenv("PERFGUARD_DIRTY", "1", 1);
	else
		unsetenv("PERFGUARD_DIRTY");
	if (o->service)
		setenv("PERFGUARD_SERVICE", o->service, 1);
	if (!getenv("PERFGUARD_ROOT"))
		setenv("PERFGUARD_ROOT", root, 1);
}

/* ref as a full commit id (40 hex digits, lowercased) into *out, else
 * PG_EUSAGE: outside a repository nothing else can be checked. */
static int full_commit_id(const char *ref, char **out)
{
	size_t n = strlen(ref);
	bool hex = n == 40;
	for (size_t i = 0; hex && i < n; i++)
		hex = isxdigit((unsigned char)ref[i]) != 0;
	if (!hex)
		return pg_error_set(PG_EUSAGE,
				    "--commit %s: outside a git repository "
				    "record cannot check a name or an "
				    "abbreviated id; give the full "
				    "40-hex-digit commit id (`git rev-parse "
				    "REF` where the code was built)",
				    ref);
	*out = pg_strdup(ref);
	for (char *c = *out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

/*
 * The commit to label windows with, checked before the program runs. In
 * the project's repository --commit must resolve there (PG_EUSAGE with
 * git's reason); outside one (a deployed service often has no .git) a
 * full commit id is taken as it is, and nothing else (full_commit_id).
 * Without --commit, HEAD, and whether tracked files differ from it (the
 * program runs them as they are); no label when there is no repository
 * or it has no commits (then ingest --commit names the commit).
 */
static int resolve_commit(const char *ref, const char *root,
			  struct commit_label *out)
{
	struct pg_repo *repo = NULL;
	memset(out, 0, sizeof(*out));
	if (pg_git_open(root, &repo)) {
		pg_error_clear();
		return ref ? full_commit_id(ref, &out->commit) : 0;
	}
	char hex[41];
	int rc = pg_git_resolve(repo, ref ? ref : "HEAD", hex);
	if (rc == 0 && !ref && pg_git_is_dirty(repo, &out->dirty)) {
		fprintf(stderr,
			"perfguard: warning: cannot tell whether the work "
			"tree at %s has uncommitted changes: %s\n",
			root, pg_error_message());
		pg_error_clear();
	}
	pg_git_close(repo);
	if (rc == 0) {
		out->commit = pg_strdup(hex);
		return 0;
	}
	if (!ref) { /* a repository without commits */
		pg_error_clear();
		out->unborn = true;
		return 0;
	}
	char *why = pg_strdup(pg_error_message());
	rc = pg_error_set(PG_EUSAGE,
			  "--commit %s is not a commit of the repository at "
			  "%s (%s): name the deployed commit",
			  ref, root, why);
	free(why);
	return rc;
}

/*
 * Say once, before the program runs, what is wrong with the label the
 * windows will carry: none (ingest refuses such windows, long after), or
 * HEAD's for code that is not HEAD's (ingest refuses them as HEAD's).
 * An inherited PERFGUARD_COMMIT labels them in the sampler: nothing to
 * say then.
 */
static void warn_label(const struct commit_label *l, const char *root)
{
	const char *env = getenv("PERFGUARD_COMMIT");
	if (!l->commit && !(env && *env))
		fprintf(stderr,
			"perfguard: warning: the windows will carry no commit "
			"label: %s %s%s; %s, or name their commit later with "
			"`perfguard ingest --commit REF DIR`\n",
			l->unborn ? "the git repository at"
				  : "there is no git repository at",
			root, l->unborn ? " has no commit yet" : "",
			l->unborn ? "commit the code first"
				  : "give the deployed commit with --commit "
				    "ID (its full 40-hex-digit id)");
	else if (l->dirty)
		fprintf(stderr,
			"perfguard: warning: the work tree at %s has "
			"uncommitted changes to tracked files: the windows "
			"are labelled %.12s and marked dirty, and `perfguard "
			"ingest` will not store them as %.12s's profile "
			"(commit first, or vouch for them with `perfguard "
			"ingest --commit REF DIR`)\n",
			root, l->commit, l->commit);
}

/* Report a window that could not be converted (the error cleared). */
static void warn_window(const char *why)
{
	fprintf(stderr, "perfguard: %s (set aside as .bad)\n", why);
	pg_error_clear();
}

/*
 * Make this recording's spool, OUT/.spool/<pid>, into *spool, locked by
 * an flock held on *lock_fd (its .lock, pg_lock_create) until record
 * ends. PG_EIO when it cannot be made.
 */
static int own_spool(const char *out, char **spool, int *lock_fd)
{
	char *base = pg_path_join(out, ".spool");
	char *name = pg_asprintf("%ld", (long)getpid());
	*spool = pg_path_join(base, name);
	char *lock = pg_path_join(*spool, ".lock");
	*lock_fd = -1;
	int rc = pg_mkdirs(*spool, 0755);
	if (!rc)
		rc = pg_lock_create(lock, lock_fd);
	free(lock);
	free(name);
	free(base);
	return rc;
}

/*
 * The processes of the program still sampling into spool: those holding
 * their .live.<pid> there locked (perfguard.sampler.hold_spool), pids
 * pushed onto *pids when given; the files of processes gone (their lock
 * free) are removed. The count.
 */
static size_t spool_survivors(const char *spool, struct pg_strvec *pids)
{
	DIR *d = opendir(spool);
	struct dirent *e;
	size_t n = 0;
	while (d && (e = readdir(d))) {
		if (!pg_str_starts(e->d_name, ".live."))
			continue;
		char *path = pg_path_join(spool, e->d_name);
		int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
			unlink(path);
		} else if (fd >= 0 && errno == EWOULDBLOCK) {
			n++;
			if (pids)
				pg_strvec_push(pids, e->d_name + 6);
		}
		if (fd >= 0)
			close(fd);
		free(path);
	}
	if (d)
		closedir(d);
	return n;
}

/* Remove spool's lock and spool itself when nothing is left in it (a
 * window set aside as .bad stays) and no process samples into it: a
 * later recording converts what those write (adopt_orphans). */
static void drop_spool(const char *spool)
{
	if (spool_survivors(spool, NULL))
		return;
	char *lock = pg_path_join(spool, ".lock");
	unlink(lock);
	rmdir(spool);
	free(lock);
}

/* Say which processes of the program outlived it (spool_survivors). */
static void report_survivors(const char *spool, const char *out)
{
	struct pg_strvec pids = {0};
	spool_survivors(spool, &pids);
	if (pids.n) {
		struct pg_buf list;
		pg_buf_init(&list, 0);
		for (size_t i = 0; i < pids.n; i++)
			pg_buf_printf(&list, "%s%s", i ? ", " : "", pids.v[i]);
		fprintf(stderr,
			"perfguard: warning: %zu process%s of the program "
			"still run%s (pid %s): the windows %s write%s stay "
			"in %s, and the next `perfguard record --out %s` "
			"converts them\n",
			pids.n, pids.n == 1 ? "" : "es", pids.n == 1 ? "s" : "",
			list.data, pids.n == 1 ? "it" : "they",
			pids.n == 1 ? "s" : "", spool, out);
		pg_buf_release(&list);
	}
	pg_strvec_release(&pids);
}

/*
 * The spools in OUT/.spool of recordings that ended (their lock free):
 * killed outright (SIGKILL, a crash), or outlived by processes of their
 * program. Each one found is locked here while its windows are
 * converted (into *windows), and removed once no process samples into
 * it (spool_survivors) and it is empty.
 */
static void adopt_orphans(const char *out, const char *own, size_t *windows)
{
	char *base = pg_path_join(out, ".spool");
	DIR *d = opendir(base);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char *dir = pg_path_join(base, e->d_name);
		char *lock = pg_path_join(dir, ".lock");
		int fd = strcmp(dir, own)
			     ? open(lock, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
			     : -1;
		size_t n = 0;
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
			bool alive = spool_survivors(dir, NULL) > 0;
			/* converted after the check: a process that ended
			 * wrote its last window before its lock went */
			if (cli_windows_convert_spool(dir, out, NULL, &n, NULL))
				warn_window(pg_error_message());
			*windows += n;
			if (!alive && unlink(lock) == 0)
				rmdir(dir);
		}
		if (fd >= 0)
			close(fd);
		free(lock);
		free(dir);
	}
	if (d)
		closedir(d);
	/* windows an earlier perfguard spooled here, without a lock */
	size_t n = 0;
	if (cli_windows_convert_spool(base, out, NULL, &n, NULL))
		warn_window(pg_error_message());
	*windows += n;
	free(base);
}

static int convert(const char *spool, const struct record_opts *o,
		   size_t *windows, size_t *rotated, bool *failed,
		   struct cli_rate_note *note)
{
	size_t n = 0, removed = 0;
	bool was_low = note->low;
	int rc = cli_windows_convert_spool(spool, o->out, NULL, &n, note);
	*windows += n;
	if (note->low && !was_low) /* once a recording: the first window */
		fprintf(stderr,
			"perfguard: warning: window %s was sampled at %.1f Hz "
			"of the %d Hz asked: %s; its profile has fewer "
			"samples than asked\n",
			note->stem, note->achieved_hz, note->rate_hz,
			note->reason);
	if (rc) {
		warn_window(pg_error_message());
		*failed = true;
	}
	if (o->max_bytes &&
	    cli_windows_rotate(o->out, o->max_bytes, &removed)) {
		fprintf(stderr, "perfguard: %s\n", pg_error_message());
		pg_error_clear();
	}
	*rotated += removed;
	return 0;
}

static int parse_option(int id, const char *arg, void *ctx)
{
	struct record_opts *o = ctx;
	int rc = cli_common_option(id, arg, &o->common);
	if (rc)
		return rc < 0 ? rc : 0;
	switch (id) {
	case OPT_RATE:
		if (cli_parse_count("--rate", arg, 1, &o->rate_hz) ||
		    o->rate_hz > 10000)
			return pg_error_set(
			    PG_EUSAGE,
			    "--rate takes samples per second, a "
			    "whole number from 1 to 10000, not "
			    "'%s'",
			    arg);
		return 0;
	case OPT_MODE:
		o->mode = arg;
		if (strcmp(arg, "cpu") && strcmp(arg, "wall"))
			return pg_error_set(
			    PG_EUSAGE, "--mode is cpu or wall, not '%s'", arg);
		return 0;
	case OPT_WINDOW:
		rc = cli_parse_duration_s("--window", arg, &o->window_s);
		if (!rc && o->window_s < 0.01) /* the sampler's least */
			rc = pg_error_set(PG_EUSAGE,
					  "--window is at least 10ms, not '%s'",
					  arg);
		return rc;
	case OPT_OUT:
		o->out = arg;
		if (!*arg)
			return pg_error_set(PG_EUSAGE,
					    "--out needs a directory, not ''");
		return 0;
	case OPT_MAX_SIZE:
		return cli_parse_size("--max-size", arg, &o->max_bytes);
	case OPT_COMMIT:
		o->commit = arg;
		return 0;
	case OPT_SERVICE:
		o->service = arg;
		for (const char *c = arg; *c; c++)
			if ((unsigned char)*c < ' ' || *c == 0x7f)
				return pg_error_set(PG_EUSAGE,
						    "--service takes a name "
						    "without control "
						    "characters");
		if (!*arg)
			return pg_error_set(PG_EUSAGE,
					    "--service needs a name, not ''");
		return 0;
	case OPT_PYTHON:
		o->python = arg;
		return 0;
	default:
		return pg_error_set(PG_EUSAGE, "see `perfguard help record`");
	}
}

/*
 * Pass on to the program the signals a service manager or a user sends
 * to stop, reload or poke it (systemd's ExecReload sends SIGUSR1 or
 * SIGHUP to record, its main pid; gunicorn stops at once on SIGQUIT),
 * except those ignored when record started (nohup), which the program
 * inherits ignored.
 */
static void forward_signals(void)
{
	static const int sigs[] = {SIGINT,  SIGTERM, SIGHUP,   SIGQUIT,
				   SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM};
	struct sigaction sa = {.sa_sigaction = on_signal,
			       .sa_flags = SA_SIGINFO},
			 old;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* pg_signals_install left the ignored ones ignored */
		if (sigaction(sigs[i], NULL, &old) == 0 &&
		    old.sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

/*
 * Fork and exec the program. An exec that fails (no such program, not
 * executable) is reported back through a close-on-exec pipe: PG_EUSAGE
 * naming it, before anything is recorded (it used to be the program's
 * "exit status 127", exit 3, after "recording ..." was announced). The
 * forwarded signals are caught here (forward_signals); the child gets
 * the dispositions perfguard started with. Returns its pid, or -1 (error
 * set).
 */
static pid_t start_program(char **pargv)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		pg_error_errno(PG_EIO, "cannot create a pipe");
		return -1;
	}
	forward_signals();
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		pg_error_errno(PG_EIO, "cannot fork");
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) { /* exec resets the caught ones to their default */
		pg_signals_inherited();
		close(fds[0]);
		execvp(pargv[0], pargv);
		int err = errno;
		ssize_t w = write(fds[1], &err, sizeof(err));
		(void)w;
		_exit(127);
	}
	close(fds[1]);
	int err = 0;
	ssize_t got;
	do
		got = read(fds[0], &err, sizeof(err));
	while (got < 0 && errno == EINTR);
	close(fds[0]);
	if (got == (ssize_t)sizeof(err)) {
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		pg_error_set(PG_EUSAGE, "cannot run %s: %s", pargv[0],
			     strerror(err));
		return -1;
	}
	return pid;
}

/* Is the program's death by sig the end of a recording stopped as
 * services are stopped (SIGINT, SIGTERM, SIGHUP that record passed
 * on)? Any other signal, passed on or not, ended it abnormally, as it
 * would have without record (a service manager restarts it). */
static bool stopped_by(int sig)
{
	return sig == got_signal &&
	       (sig == SIGINT || sig == SIGTERM || sig == SIGHUP);
}

/*
 * Convert windows while the program runs and once more when it ended
 * (windows: those converted before, from orphaned spools);
 * the exit code from how it ended (0, or PG_EXIT_FAULT /
 * PG_EXIT_INTERRUPTED); a negative PG_E* when waiting failed.
 */
static int follow_program(pid_t pid, const char *spool,
			  const struct record_opts *o,
			  struct cli_common *common, size_t windows)
{
	bool failed = false;
	int status = 0;
	size_t rotated = 0;
	struct cli_rate_note note = {0};
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		convert(spool, o, &windows, &rotated, &failed, &note);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return pg_error_errno(PG_EIO, "waitpid");
		poll(NULL, 0, 200);
	}
	child_pid = 0;
	convert(spool, o, &windows, &rotated, &failed, &note);
	adopt_orphans(o->out, spool, &windows);
	report_survivors(spool, o->out);
	cli_note(common, "%zu window%s written to %s", windows,
		 windows == 1 ? "" : "s", o->out);
	if (rotated)
		cli_note(common,
			 "--max-size removed the %zu oldest window%s of %s",
			 rotated, rotated == 1 ? "" : "s", o->out);
	if (!pg_path_is_dir(spool)) {
		fprintf(stderr,
			"perfguard: %s was removed while recording: the "
			"windows the program wrote into it are lost\n",
			spool);
		failed = true;
	} else if (!windows && WIFSIGNALED(status)) {
		fprintf(stderr,
			"perfguard: warning: no window: the program was "
			"killed by signal %d (%s) before it wrote one\n",
			WTERMSIG(status), strsignal(WTERMSIG(status)));
	} else if (!windows) {
		fprintf(stderr,
			"perfguard: warning: no window: the program ended "
			"before the sampler's first tick, or ran no Python "
			"with it (python -I and -S ignore the PYTHONPATH "
			"that loads it)\n");
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
		fprintf(stderr,
			"perfguard: the program exited with status %d\n",
			WEXITSTATUS(status));
		return PG_EXIT_FAULT;
	}
	if (WIFSIGNALED(status) && !stopped_by(WTERMSIG(status))) {
		fprintf(stderr,
			"perfguard: the program was killed by signal %d "
			"(%s)\n",
			WTERMSIG(status), strsignal(WTERMSIG(status)));
		return PG_EXIT_FAULT;
	}
	if (failed)
		return PG_EXIT_FAULT;
	return got_signal == SIGINT ? PG_EXIT_INTERRUPTED : PG_EXIT_OK;
}

static int cmd_record(int argc, char **argv)
{
	struct record_opts o = {.rate_hz = 100,
				.mode = "cpu",
				.window_s = 60,
				.out = "perfguard-profiles",
				.python = "python3"};
	int rc = cli_opt_parse(&cli_cmd_record, argc, argv, parse_option, &o);
	if (rc)
		return cli_fail(rc);
	struct cli_common common = o.common;
	if (common.help) {
		cli_command_print_help(&cli_cmd_record, stdout);
		return PG_EXIT_OK;
	}
	if (optind >= argc)
		return cli_usage_error("record needs the program to run: "
				       "perfguard record [options] -- "
				       "app.py ARGS...");
	char *record_dir = pg_runner_record_dir();
	if (!record_dir) {
		pg_error_set(PG_EUSAGE, "the sampler was not built: build "
					"perfguard with its hooks (cmake)");
		return cli_fail(PG_EUSAGE);
	}
	if (pg_path_exists(o.out) && !pg_path_is_dir(o.out)) {
		free(record_dir);
		return cli_usage_error("--out %s is not a directory: record "
				       "writes its windows into one",
				       o.out);
	}
	const char *script = argv[optind];
	if (pg_str_ends(script, ".py") && !pg_path_exists(script)) {
		free(record_dir);
		return cli_usage_error("no such script: %s", script);
	}
	char *root = cli_project_root();
	struct commit_label label = {0};
	char *spool = NULL;
	int exit_code = PG_EXIT_OK, lock_fd = -1;
	char **pargv = NULL;
	size_t adopted = 0;
	if ((rc = resolve_commit(o.commit, root, &label)) ||
	    (rc = own_spool(o.out, &spool, &lock_fd)))
		goto fail;
	warn_label(&label, root);
	adopt_orphans(o.out, spool, &adopted);
	set_env(&o, spool, record_dir, &label, root);
	pargv = program_argv(argv + optind, argc - optind, o.python);

	pid_t pid = start_program(pargv);
	if (pid < 0) {
		rc = pg_error_code();
		goto fail;
	}
	child_pid = pid;
	cli_note(&common,
		 "recording %s (pid %ld) at %d Hz, %s mode, "
		 "windows of %gs in %s",
		 pargv[0], (long)pid, o.rate_hz, o.mode, o.window_s, o.out);
	exit_code = follow_program(pid, spool, &o, &common, adopted);
	if (exit_code < 0) {
		rc = exit_code;
		goto fail;
	}
	goto cleanup;
fail:
	exit_code = cli_fail(rc);
cleanup:
	if (lock_fd >= 0) {
		drop_spool(spool);
		close(lock_fd);
	}
	free(pargv);
	free(spool);
	free(label.commit);
	free(root);
	free(record_dir);
	return exit_code;
}
