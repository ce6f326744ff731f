/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the buffer controller's selftests. */
#ifndef __BUFFER_UTIL_H
#define __BUFFER_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* What buffer_value() returns for "max". */
#define BUFFER_VALUE_MAX (-2L)

long buffer_value(const char *cgroup, const char *file, const char *device,
		  const char *key);
int buffer_send_fd(int sock, int fd, int flags);
int buffer_recv_fd(int sock, int flags);

long current_of(const char *cgroup, const char *device);
int buffer_set_max(const char *cgroup, const char *device, const char *value);
int buffer_write_file(const char *path, const char *value);
char *make_cgroup(const char *root, const char *name);
void remove_cgroup(char *cgroup);
int dumb_create(int card, unsigned int width, unsigned int height, long *size);
int gem_close(int card, int handle);
int prime_export(int card, int handle);
int prime_import(int card, int fd);

/*
 * The calls below need nothing but libc and the uAPI, so that a program
 * that links no helper (test_buffer_absent) can use them too.
 */

/* DMA_HEAP_IOCTL_ALLOC of @data on /dev/dma_heap/@heap: the fd or -errno. */
static inline int buffer_heap_alloc_data(const char *heap,
					 struct dma_heap_allocation_data *data)
{
	char path[PATH_MAX];
	int heap_fd, ret;

	snprintf(path, sizeof(path), "/dev/dma_heap/%s", heap);
	heap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (heap_fd < 0)
		return -errno;
	ret = ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, data);
	ret = ret < 0 ? -errno : (int)data->fd;
	close(heap_fd);
	return ret;
}

/* A dma-buf of @len bytes from /dev/dma_heap/@heap: its fd or -errno. */
static inline int buffer_heap_alloc(const char *heap, size_t len)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	return buffer_heap_alloc_data(heap, &data);
}

/*
 * A dma-buf of @len bytes from the heap open at @heap_fd, charged to what
 * @charge_fd names (DMA_HEAP_FLAG_CHARGE_FD): its fd or -errno.
 */
static inline int buffer_heap_alloc_charged(int heap_fd, size_t len,
					    int charge_fd)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
		.heap_flags = DMA_HEAP_FLAG_CHARGE_FD,
		.charge_fd = charge_fd,
	};

	if (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &data) < 0)
		return -errno;
	return data.fd;
}

/* DMA_BUF_IOCTL_TRANSFER_CHARGE; 0 or -errno. */
static inline int transfer_charge(int buf_fd, int charge_fd)
{
	struct dma_buf_transfer_charge arg = { .charge_fd = charge_fd };

	return ioctl(buf_fd, DMA_BUF_IOCTL_TRANSFER_CHARGE, &arg) < 0 ? -errno : 0;
}

/*
 * Send @len bytes of @data over the unix socket @sock, with @fd attached
 * unless it is negative; @flags as for sendmsg(2). The bytes sent, or
 * -errno.
 */
static inline ssize_t buffer_send_msg(int sock, const void *data, size_t len,
				      int fd, int flags)
{
	char cmsgbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t n;

	if (fd >= 0) {
		msg.msg_control = cmsgbuf;
		msg.msg_controllen = sizeof(cmsgbuf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	n = sendmsg(sock, &msg, flags | MSG_NOSIGNAL);
	return n < 0 ? -errno : n;
}

/*
 * Receive one message of up to @size bytes into @data from the unix socket
 * @sock; *@fd gets the fd attached to it (close-on-exec), or -1. @flags as
 * for recvmsg(2). The bytes received, or -errno.
 */
static inline ssize_t buffer_recv_msg(int sock, void *data, size_t size,
				      int *fd, int flags)
{
	char cmsgbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = data, .iov_len = size };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cmsgbuf, .msg_controllen = sizeof(cmsgbuf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	*fd = -1;
	n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
	return n;
}

/* A kselftest case: KSFT_PASS, KSFT_SKIP or KSFT_FAIL, given the root. */
struct buffer_test {
	int (*fn)(const char *root);
	const char *name;
};

int buffer_test_main(const struct buffer_test *tests, size_t n);

#endif
