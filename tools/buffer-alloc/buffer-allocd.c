// SPDX-License-Identifier: GPL-2.0
/*
 * buffer-allocd: a gralloc-style allocator service. Clients ask for buffers
 * over a unix socket; the service allocates them from a dma-buf heap and
 * charges each to the client's cgroup (DMA_HEAP_FLAG_CHARGE_FD with a pidfd
 * of the peer from SO_PEERCRED), then hands the fd over with SCM_RIGHTS.
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
		"usage: buffer-allocd --socket PATH [--charge client|self] [--count N]\n"
		"Serve dma-buf allocation requests on the unix socket PATH.\n"
		"  --charge client  charge each buffer to the requesting client (default)\n"
		"  --charge self    charge the service, as allocators do without charge_fd\n"
		"  --count N        exit after N requests (default: serve until killed)\n");
}

/* Allocate for the peer; with charge_client, charge the peer's cgroup. */
static int allocate(int conn, size_t len, const char *heap, void *ctx)
{
	int charge_client = *(int *)ctx, charge_fd = -1, buf;
	pid_t pid = peer_pid(conn);

	if (charge_client) {
		charge_fd = pidfd_open(pid);
		if (charge_fd < 0)
			return -errno;
	}
	buf = heap_alloc(heap, len, charge_fd);
	if (charge_fd >= 0)
		close(charge_fd);
	printf("buffer-allocd: %zu bytes from heap/%s for pid %d, charged to %s: %s\n",
	       len, heap, (int)pid, charge_client ? "the client" : "the service",
	       buf < 0 ? strerror(-buf) : "ok");
	fflush(stdout);
	return buf;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "charge", required_argument, NULL, 'c' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *path = NULL;
	int charge_client = 1, count = -1, opt;

	while ((opt = getopt_long(argc, argv, "s:c:n:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			path = optarg;
			break;
		case 'c':
			if (strcmp(optarg, "client") && strcmp(optarg, "self")) {
				fprintf(stderr, "buffer-allocd: --charge takes client or self\n");
				return 2;
			}
			charge_client = !strcmp(optarg, "client");
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
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (serve_requests(path, count, allocate, &charge_client)) {
		fprintf(stderr, "buffer-allocd: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}
