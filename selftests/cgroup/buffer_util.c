// SPDX-License-Identifier: GPL-2.0
/* Helpers shared by the buffer controller's selftests. */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dma-buf.h>
#include <drm/drm.h>
#include <drm/drm_mode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "../kselftest.h"
#include "cgroup_util.h"
#include "buffer_util.h"

/*
 * The value of @device's line in a nested-keyed file: the number after
 * "<device> ", or after "<key>=" in that line. -1 if absent,
 * BUFFER_VALUE_MAX for "max".
 */
long buffer_value(const char *cgroup, const char *file, const char *device,
		  const char *key)
{
	char buf[4096], *line, *save, *p;
	size_t dlen = strlen(device);

	if (cg_read(cgroup, file, buf, sizeof(buf)))
		return -1;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, device, dlen) || line[dlen] != ' ')
			continue;
		p = line + dlen + 1;
		if (key) {
			char needle[64];

			snprintf(needle, sizeof(needle), "%s=", key);
			p = strstr(p, needle);
			if (!p)
				return -1;
			p += strlen(needle);
		}
		if (!strncmp(p, "max", 3))
			return BUFFER_VALUE_MAX;
		return strtol(p, NULL, 10);
	}
	return -1;
}

/* Pass @fd over a unix socket, with one byte; @flags as for sendmsg(2). */
int buffer_send_fd(int sock, int fd, int flags)
{
	return buffer_send_msg(sock, "b", 1, fd, flags) == 1 ? 0 : -1;
}

/* Receive an fd passed with buffer_send_fd(); -1 if none came. */
int buffer_recv_fd(int sock, int flags)
{
	char byte;
	int fd;

	if (buffer_recv_msg(sock, &byte, 1, &fd, flags) != 1) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

long current_of(const char *cgroup, const char *device)
{
	return buffer_value(cgroup, "buffer.current", device, NULL);
}

/* Write "<device> <value>" to @cgroup's buffer.max: 0 or -1. */
int buffer_set_max(const char *cgroup, const char *device, const char *value)
{
	char line[128];

	snprintf(line, sizeof(line), "%s %s", device, value);
	return cg_write(cgroup, "buffer.max", line);
}

/*
 * Write @value to the file at @path, truncated first, such as a driver's
 * bind or a tracing control: 0 or -errno.
 */
int buffer_write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, value, strlen(value)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/* A new cgroup @name below @root, or NULL; remove_cgroup() frees it. */
char *make_cgroup(const char *root, const char *name)
{
	char *cg = cg_name(root, name);

	if (!cg || cg_create(cg)) {
		free(cg);
		return NULL;
	}
	return cg;
}

void remove_cgroup(char *cgroup)
{
	if (cgroup) {
		cg_destroy(cgroup);
		free(cgroup);
	}
}

/*
 * A @width x @height, 32 bpp dumb buffer on @card: its GEM handle, or
 * -errno. Its size in *@size unless @size is NULL.
 */
int dumb_create(int card, unsigned int width, unsigned int height, long *size)
{
	struct drm_mode_create_dumb create = {
		.width = width, .height = height, .bpp = 32,
	};

	if (ioctl(card, DRM_IOCTL_MODE_CREATE_DUMB, &create))
		return -errno;
	if (size)
		*size = create.size;
	return create.handle;
}

int gem_close(int card, int handle)
{
	struct drm_gem_close close_arg = { .handle = handle };

	return ioctl(card, DRM_IOCTL_GEM_CLOSE, &close_arg) ? -errno : 0;
}

/* A GEM handle's dma-buf fd, or -errno. */
int prime_export(int card, int handle)
{
	struct drm_prime_handle prime = { .handle = handle, .flags = DRM_CLOEXEC | DRM_RDWR };

	return ioctl(card, DRM_IOCTL_PRIME_HANDLE_TO_FD, &prime) ? -errno : prime.fd;
}

/* A dma-buf's GEM handle on @card, or -errno. */
int prime_import(int card, int fd)
{
	struct drm_prime_handle prime = { .fd = fd };

	return ioctl(card, DRM_IOCTL_PRIME_FD_TO_HANDLE, &prime) ? -errno : (int)prime.handle;
}

/*
 * Runs @tests on the cgroup2 root, with the controller enabled for its
 * children, and reports them in TAP; the main() of a buffer selftest.
 */
int buffer_test_main(const struct buffer_test *tests, size_t n)
{
	char root[PATH_MAX];
	size_t i;

	ksft_print_header();
	ksft_set_plan(n);
	if (cg_find_unified_root(root, sizeof(root), NULL))
		ksft_exit_skip("cgroup v2 isn't mounted\n");
	if (cg_read_strstr(root, "cgroup.controllers", "buffer"))
		ksft_exit_skip("buffer controller isn't available\n");
	if (cg_read_strstr(root, "cgroup.subtree_control", "buffer") &&
	    cg_write(root, "cgroup.subtree_control", "+buffer"))
		ksft_exit_skip("Failed to enable the buffer controller\n");

	for (i = 0; i < n; i++) {
		switch (tests[i].fn(root)) {
		case KSFT_PASS:
			ksft_test_result_pass("%s\n", tests[i].name);
			break;
		case KSFT_SKIP:
			ksft_test_result_skip("%s\n", tests[i].name);
			break;
		default:
			ksft_test_result_fail("%s\n", tests[i].name);
			break;
		}
	}
	ksft_finished();
}
