/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the buffer controller's selftests. */
#ifndef __BUFFER_UTIL_H
#define __BUFFER_UTIL_H

/* What buffer_value() returns for "max". */
#define BUFFER_VALUE_MAX (-2L)

long buffer_value(const char *cgroup, const char *file, const char *device,
		  const char *key);
int buffer_send_fd(int sock, int fd, int flags);
int buffer_recv_fd(int sock, int flags);

#endif
