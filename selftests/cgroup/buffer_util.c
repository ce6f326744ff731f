// SPDX-License-Identifier: GPL-2.0
/* Helpers shared by the buffer controller's selftests. */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
