// SPDX-License-Identifier: GPL-2.0
/*
 * json-check: exit 0 if standard input is JSON (RFC 8259) - one value, or
 * with --lines one value on each non-empty line (JSON Lines) - else say
 * where it is not, and exit 1. For the in-guest tests of buffer-cg's -o
 * json, which have no other JSON parser at hand.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *text, *p;

static bool fail(const char *what)
{
	fprintf(stderr, "json-check: %s at offset %ld: '%.20s'\n", what, (long)(p - text), p);
	return false;
}

static void space(bool lines)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || (!lines && *p == '\n'))
		p++;
}

static bool value(bool lines, int depth);

static bool string(void)
{
	if (*p++ != '"')
		return fail("expected a string");
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return fail("control character or end in a string");
		if (*p++ != '\\')
			continue;
		if (*p == 'u') {
			for (int i = 1; i <= 4; i++)
				if (!isxdigit((unsigned char)p[i]))
					return fail("bad \\u escape");
			p += 5;
		} else if (*p && strchr("\"\\/bfnrt", *p)) {
			p++;
		} else {
			return fail("bad escape");
		}
	}
	p++;
	return true;
}

static bool number(void)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (isdigit((unsigned char)*p))
		while (isdigit((unsigned char)*p))
			p++;
	else
		return fail("bad number");
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return fail("bad fraction");
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return fail("bad exponent");
		while (isdigit((unsigned char)*p))
			p++;
	}
	return true;
}

/* Members or elements up to @close, each parsed by value() or as key: value. */
static bool members(bool lines, int depth, char close)
{
	space(lines);
	if (*p == close) {
		p++;
		return true;
	}
	for (;;) {
		space(lines);
		if (close == '}') {
			if (!string())
				return false;
			space(lines);
			if (*p++ != ':')
				return fail("expected ':'");
		}
		if (!value(lines, depth + 1))
			return false;
		space(lines);
		if (*p == close) {
			p++;
			return true;
		}
		if (*p++ != ',')
			return fail(close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool value(bool lines, int depth)
{
	static const char *const words[] = { "true", "false", "null" };

	if (depth > 64)
		return fail("nested too deeply");
	space(lines);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';

		p++;
		return members(lines, depth, close);
	}
	if (*p == '"')
		return string();
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strncmp(p, words[i], strlen(words[i]))) {
			p += strlen(words[i]);
			return true;
		}
	return number();
}

int main(int argc, char **argv)
{
	bool lines = argc == 2 && !strcmp(argv[1], "--lines");
	size_t len = 0, cap = 1 << 16, n;
	char *buf = malloc(cap + 1);
	int values = 0;

	if (argc > 2 || (argc == 2 && !lines)) {
		fprintf(stderr, "usage: json-check [--lines] < FILE\n");
		return 2;
	}
	while (buf && (n = fread(buf + len, 1, cap - len, stdin)) > 0) {
		len += n;
		if (len == cap)
			buf = realloc(buf, (cap *= 2) + 1);
	}
	if (!buf)
		return 2;
	buf[len] = '\0';
	if (strlen(buf) != len) {
		fprintf(stderr, "json-check: a NUL byte in the input\n");
		return 1;
	}
	text = p = buf;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (!*p)
			break;
		if (!value(lines, 0))
			return 1;
		values++;
		space(lines);
		if (lines && *p && *p != '\n')
			return fail("more after a line's value"), 1;
		if (!lines && *p)
			return fail("more after the value"), 1;
	}
	if (!values) {
		fprintf(stderr, "json-check: no JSON value\n");
		return 1;
	}
	return 0;
}
