/*
 * utf8.c - UTF-8 checking and encoding; the decoder itself is inline in
 * util.h. One definition of well-formed for every reader and writer
 * (suite, JSON, JUnit): no overlong forms, no surrogates, nothing past
 * U+10FFFF. This does not transcode or normalise.
 */
#include "perfguard/util.h"

size_t pg_utf8_invalid_at(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		uint32_t cp;
		size_t n = pg_utf8_decode(p + i, len - i, &cp);
		if (!n)
			return i;
		i += n;
	}
	return len;
}

size_t pg_utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}
