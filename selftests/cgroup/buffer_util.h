/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the buffer controller's selftests. */
#ifndef __BUFFER_UTIL_H
#define __BUFFER_UTIL_H

#include <stddef.h>

/* What buffer_value() returns for "max". */
#define BUFFER_VALUE_MAX (-2L)

long buffer_value(const char *cgroup, const char *file, const char *device,
		  const char *key);
int buffer_send_fd(int sock, int fd, int flags);
int buffer_recv_fd(int sock, int flags);

long current_of(const char *cgroup, const char *device);
char *make_cgroup(const char *root, const char *name);
void remove_cgroup(char *cgroup);
int transfer_charge(int buf_fd, int charge_fd);
int prime_export(int card, int handle);
int prime_import(int card, int fd);

/* A kselftest case: KSFT_PASS, KSFT_SKIP or KSFT_FAIL, given the root. */
struct buffer_test {
	int (*fn)(const char *root);
	const char *name;
};

int buffer_test_main(const struct buffer_test *tests, size_t n);

#endif
