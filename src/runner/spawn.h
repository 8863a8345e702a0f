/*
 * spawn.h - the runner's internal process helper (not a public interface).
 */
#ifndef PG_RUNNER_SPAWN_H
#define PG_RUNNER_SPAWN_H

#include "perfguard/runner.h"

struct spawn_spec {
	const char *const *argv; /* argv[0] is looked up on PATH */
	const char *cwd;	 /* NULL = inherit */
	const struct pg_env_var *env;
	size_t nenv;
	int64_t timeout_ms; /* 0 = none */
	bool passthrough;   /* inherit stdout/stderr instead of capturing */
	size_t tail_bytes;  /* how much output to keep when capturing */
};

struct spawn_result {
	int exit_code; /* exit status, or -signal */
	bool timed_out;
	int64_t wall_ns, cpu_ns;
	char *output; /* captured tail (NULL with passthrough); caller frees;
			 NUL-terminated, and may hold NUL bytes itself */
	size_t output_len;	 /* bytes in output */
	uint64_t output_dropped; /* bytes that fell off the tail's front */
};

/*
 * Run a child to completion (or timeout, after which it is killed). When
 * it ends, everything it started (its process group, and descendants that
 * left it, even through setsid) is killed and reaped before this returns. Returns 0 when it ran, whatever its exit status; PG_EINTR when
 * interrupted (the child is killed); PG_EIO when it could not start.
 * Exec failure shows as exit code 127 (not found) or 126.
 */
int pg_spawn(const struct spawn_spec *s, struct spawn_result *r);

#endif
