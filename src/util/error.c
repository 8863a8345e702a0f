/*
 * error.c - the last error of the current thread.
 *
 * A failing function records a code and a message where the failure
 * happens and returns the code; callers propagate the code unchanged and
 * may prefix context with pg_error_wrap. Only the cli reads and prints the
 * message. Messages longer than the buffer are truncated, never overflow.
 */
#include "perfguard/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char error_message[4096];
static _Thread_local int error_code;

/* error_message = a + sep + b, truncated to fit (truncation is intended). */
static void compose(const char *a, const char *sep, const char *b)
{
	char tmp[sizeof(error_message)];
	size_t n = 0;
	const char *parts[3] = {a, sep, b};
	for (int i = 0; i < 3; i++) {
		for (const char *p = parts[i]; p && *p && n + 1 < sizeof(tmp);
		     p++)
			tmp[n++] = *p;
	}
	tmp[n] = '\0';
	memcpy(error_message, tmp, n + 1);
}

__attribute__((format(printf, 3, 0))) static int
set_message(int code, const char *suffix, const char *fmt, va_list ap)
{
	char tmp[sizeof(error_message)];
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	compose(tmp, suffix ? ": " : NULL, suffix);
	error_code = code;
	return code;
}

int pg_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_message(code, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int pg_error_errno(int code, const char *fmt, ...)
{
	const char *why = strerror(errno);
	va_list ap;
	va_start(ap, fmt);
	set_message(code, why, fmt, ap);
	va_end(ap);
	return code;
}

int pg_error_wrap(const char *fmt, ...)
{
	char prefix[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	compose(prefix, ": ", error_message);
	return error_code;
}

const char *pg_error_message(void)
{
	return error_message;
}

int pg_error_code(void)
{
	return error_code;
}

void pg_error_clear(void)
{
	error_message[0] = '\0';
	error_code = PG_OK;
}
