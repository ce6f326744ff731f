// SPDX-License-Identifier: GPL-2.0
/* Helpers shared by the buffer controller's selftests. */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dma-buf.h>
#include <drm/drm.h>
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

/* Pass @fd over a unix socket; @flags as for sendmsg(2). */
int buffer_send_fd(int sock, int fd, int flags)
{
	char cmsgbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'b';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cmsgbuf, .msg_controllen = sizeof(cmsgbuf),
	};
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);

	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	return sendmsg(sock, &msg, flags | MSG_NOSIGNAL) == 1 ? 0 : -1;
}

/* Receive an fd passed with buffer_send_fd(); -1 if none came. */
int buffer_recv_fd(int sock, int flags)
{
	char cmsgbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cmsgbuf, .msg_controllen = sizeof(cmsgbuf),
	};
	struct cmsghdr *cmsg;
	int fd;

	if (recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

long current_of(const char *cgroup, const char *device)
{
	return buffer_value(cgroup, "buffer.current", device, NULL);
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

/* DMA_BUF_IOCTL_TRANSFER_CHARGE; 0 or -errno. */
int transfer_charge(int buf_fd, int charge_fd)
{
	struct dma_buf_transfer_charge arg = { .charge_fd = charge_fd };

	return ioctl(buf_fd, DMA_BUF_IOCTL_TRANSFER_CHARGE, &arg) < 0 ? -errno : 0;
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
