// SPDX-License-Identifier: GPL-2.0
/*
 * buffer-compositor: the middle hop. Applications ask it for buffers; it
 * gets each from the allocator service (which can only charge the
 * compositor, the process it sees), forwards it to the application, and
 * moves the charge there with DMA_BUF_IOCTL_TRANSFER_CHARGE.
 */
#define _GNU_SOURCE
#include "fdpass.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: buffer-compositor --allocator PATH --socket PATH [--count N]\n"
		"Serve buffer requests on --socket with buffers from the allocator\n"
		"service at --allocator, moving each buffer's charge to the requester.\n"
		"  --count N  exit after N requests (default: serve until killed)\n");
}

/* Get the buffer from the allocator, then move its charge to the peer. */
static int forward(int conn, size_t len, const char *heap, void *ctx)
{
	const char *allocator = ctx;
	pid_t pid = peer_pid(conn);
	int buf, client, err;

	buf = request_buffer(allocator, len, heap);
	if (buf < 0)
		return buf;
	client = pidfd_open(pid);
	err = client < 0 ? -errno : transfer_charge(buf, client);
	if (client >= 0)
		close(client);
	printf("buffer-compositor: forwarding %zu bytes to pid %d, charge moved: %s\n",
	       len, (int)pid, err ? strerror(-err) : "ok");
	fflush(stdout);
	if (err) {
		close(buf);
		return err;
	}
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allocator", required_argument, NULL, 'a' },
		{ "socket", required_argument, NULL, 's' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *allocator = NULL, *path = NULL;
	int count = -1, opt;

	while ((opt = getopt_long(argc, argv, "a:s:n:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			allocator = optarg;
			break;
		case 's':
			path = optarg;
			break;
		case 'n':
			count = atoi(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!allocator || !path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (serve_requests(path, count, forward, (void *)allocator)) {
		fprintf(stderr, "buffer-compositor: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}
