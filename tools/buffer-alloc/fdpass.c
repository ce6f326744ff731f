// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include "fdpass.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

int send_msg(int sock, const char *msg, int fd)
{
	ssize_t n = buffer_send_msg(sock, msg, strlen(msg), fd, 0);

	return n < 0 ? n : 0;
}

ssize_t recv_msg(int sock, char *msg, size_t size, int *fd)
{
	ssize_t n = buffer_recv_msg(sock, msg, size - 1, fd, 0);

	if (n >= 0)
		msg[n] = '\0';
	return n;
}

pid_t peer_pid(int sock)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return -1;
	return cred.pid;
}

int pidfd_open(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

int heap_alloc(const char *heap, size_t len, int charge_fd)
{
	struct dma_heap_allocation_data data = {
		.len = len,
		.fd_flags = O_RDWR | O_CLOEXEC,
	};

	if (charge_fd >= 0) {
		data.heap_flags = DMA_HEAP_FLAG_CHARGE_FD;
		data.charge_fd = charge_fd;
	}
	return buffer_heap_alloc_data(heap, &data);
}

static int unix_socket(const char *path, struct sockaddr_un *addr)
{
	memset(addr, 0, sizeof(*addr));
	addr->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(addr->sun_path, path);
	return socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
}

int listen_on(const char *path)
{
	struct sockaddr_un addr;
	int sock = unix_socket(path, &addr);

	if (sock < 0)
		return -1;
	unlink(path);
	if (bind(sock, (struct sockaddr *)&addr, sizeof(addr)) || listen(sock, 16)) {
		close(sock);
		return -1;
	}
	return sock;
}

int connect_to(const char *path)
{
	struct sockaddr_un addr;
	int sock = unix_socket(path, &addr);

	if (sock < 0)
		return -1;
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr))) {
		close(sock);
		return -1;
	}
	return sock;
}

static void serve_one(int conn, request_handler handle, void *ctx)
{
	char msg[MSG_MAX], heap[64];
	size_t len;
	int fd;

	if (recv_msg(conn, msg, sizeof(msg), &fd) <= 0)
		return;
	if (fd >= 0)
		close(fd);
	fd = sscanf(msg, "ALLOC %zu %63s", &len, heap) == 2 ?
	     handle(conn, len, heap, ctx) : -EINVAL;
	if (fd < 0) {
		snprintf(msg, sizeof(msg), "ERR %d", -fd);
		send_msg(conn, msg, -1);
		return;
	}
	snprintf(msg, sizeof(msg), "OK %zu", len);
	send_msg(conn, msg, fd);
	close(fd);
}

int serve_requests(const char *path, int count, request_handler handle, void *ctx)
{
	int sock = listen_on(path);

	if (sock < 0)
		return -1;
	while (count) {
		int conn = accept4(sock, NULL, NULL, SOCK_CLOEXEC);

		if (conn < 0)
			continue;
		serve_one(conn, handle, ctx);
		close(conn);
		if (count > 0)
			count--;
	}
	close(sock);
	unlink(path);
	return 0;
}

int request_buffer(const char *path, size_t len, const char *heap)
{
	char msg[MSG_MAX];
	int sock = connect_to(path), fd, err;

	if (sock < 0)
		return -errno;
	snprintf(msg, sizeof(msg), "ALLOC %zu %s", len, heap);
	err = send_msg(sock, msg, -1);
	if (!err && recv_msg(sock, msg, sizeof(msg), &fd) < 0)
		err = -errno;
	close(sock);
	if (err)
		return err;
	if (strncmp(msg, "OK ", 3) || fd < 0) {
		if (fd >= 0)
			close(fd);
		return strncmp(msg, "ERR ", 4) ? -EPROTO : -atoi(msg + 4);
	}
	return fd;
}

int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'G': v <<= 10; /* fall through */
	case 'M': v <<= 10; /* fall through */
	case 'K': v <<= 10; end++; break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}
