/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the allocator service, its clients and the compositor share: the
 * wire protocol, fd passing over unix sockets, and the heap calls.
 *
 * Protocol, one SOCK_SEQPACKET message each way:
 *   request  "ALLOC <bytes> <heap>"
 *   reply    "OK <bytes>" with the dma-buf fd attached, or "ERR <errno>"
 */
#ifndef BUFFER_ALLOC_FDPASS_H
#define BUFFER_ALLOC_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The heap, charge and fd-passing calls of the selftests (buffer_send_msg(),
 * buffer_heap_alloc_data(), transfer_charge(), ...), header-only.
 */
#include "../../selftests/cgroup/buffer_util.h"

#define MSG_MAX 128

/* Send @len bytes of @msg, with @fd attached unless it is negative. */
int send_msg(int sock, const char *msg, int fd);
/* Receive one message into @msg (NUL-terminated); *@fd gets an attached fd or -1. */
ssize_t recv_msg(int sock, char *msg, size_t size, int *fd);

/* The pid of the process at the other end of a connected unix socket. */
pid_t peer_pid(int sock);
int pidfd_open(pid_t pid);

/*
 * Allocate @len bytes from /dev/dma_heap/@heap; with @charge_fd >= 0, charge
 * them to the cgroup it names. Returns the dma-buf fd or -errno.
 */
int heap_alloc(const char *heap, size_t len, int charge_fd);

/* Ask the allocator at @path for a buffer. Returns its fd or -errno. */
int request_buffer(const char *path, size_t len, const char *heap);

int listen_on(const char *path);
int connect_to(const char *path);

/*
 * Serve requests on the unix socket @path, @count of them (forever if
 * negative). For each well-formed one, @handle returns the dma-buf fd to
 * send to the peer (which it may close), or -errno to send as the error.
 * Returns 0, or -1 with errno set if @path cannot be listened on.
 */
typedef int (*request_handler)(int conn, size_t len, const char *heap, void *ctx);
int serve_requests(const char *path, int count, request_handler handle, void *ctx);

/* Parse a size with optional K/M/G suffix; returns 0 or -1. */
int parse_size(const char *s, size_t *out);

#endif
