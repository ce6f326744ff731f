// SPDX-License-Identifier: GPL-2.0
/*
 * buffer-client: an application that gets its buffers from an allocator
 * service (buffer-allocd) or a compositor (buffer-compositor) over a unix
 * socket, or allocates them itself with --direct, and holds them until told
 * to go.
 */
#define _GNU_SOURCE
#include "fdpass.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: buffer-client (--socket PATH | --direct) [--size BYTES] [--count N]\n"
		"                     [--heap NAME] [--hold]\n"
		"Get N buffers of BYTES (K/M/G suffixes) from heap NAME (default: 1\n"
		"buffer of 1M from system), asking the service at PATH, or allocating\n"
		"them directly with --direct.\n"
		"  --hold  keep the buffers until a signal arrives, then exit\n");
}

static void on_signal(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "size", required_argument, NULL, 'z' },
		{ "count", required_argument, NULL, 'n' },
		{ "heap", required_argument, NULL, 'H' },
		{ "hold", no_argument, NULL, 'w' },
		{ "direct", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *path = NULL, *heap = "system";
	size_t size = 1 << 20;
	int count = 1, hold = 0, direct = 0, failed = 0, opt, i;

	while ((opt = getopt_long(argc, argv, "s:z:n:H:wdh", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'z':
			if (parse_size(optarg, &size)) {
				fprintf(stderr, "buffer-client: bad size '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 'H':
			heap = optarg;
			break;
		case 'w':
			hold = 1;
			break;
		case 'd':
			direct = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path == !direct || optind != argc || count < 1) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < count; i++) {
		int fd = direct ? heap_alloc(heap, size, -1) :
				  request_buffer(path, size, heap);

		if (fd < 0) {
			printf("buffer-client %d: buffer %d refused: %s\n", (int)getpid(),
			       i + 1, strerror(-fd));
			failed = 1;
			continue;
		}
		printf("buffer-client %d: got buffer %d of %zu bytes as fd %d\n",
		       (int)getpid(), i + 1, size, fd);
	}
	fflush(stdout);
	if (hold) {
		signal(SIGTERM, on_signal);
		signal(SIGINT, on_signal);
		pause();
	}
	return failed;
}
