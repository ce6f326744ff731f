// SPDX-License-Identifier: GPL-2.0
/*
 * The charging uAPI on a kernel without a working buffer controller. Built
 * without it (CONFIG_CGROUP_BUFFER=n), the kernel refuses
 * DMA_HEAP_FLAG_CHARGE_FD and DMA_BUF_IOCTL_TRANSFER_CHARGE with EOPNOTSUPP,
 * so that userspace can probe for the feature. Built in but disabled at boot
 * (cgroup_disable=buffer), it checks charge_fd as usual and charges nothing.
 * Either way heaps serve buffers as before.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kselftest.h"
#include "buffer_util.h"

/* "buffer"'s line of /proc/cgroups: 1 enabled, 0 disabled, -1 absent. */
static int controller_state(void)
{
	char line[256], name[64];
	int hierarchy, count, enabled, state = -1;
	FILE *f = fopen("/proc/cgroups", "r");

	if (!f)
		return -2;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %d %d %d", name, &hierarchy, &count,
			   &enabled) == 4 && !strcmp(name, "buffer"))
			state = enabled;
	fclose(f);
	return state;
}

#ifdef SERIES_MEMCG
/* Does memcg charge system heap buffers (dma_heap.mem_accounting=1)? */
static int memcg_charges(void)
{
	FILE *f = fopen("/sys/module/dma_heap/parameters/mem_accounting", "r");
	int c = f ? fgetc(f) : EOF;

	if (f)
		fclose(f);
	return c == 'Y';
}

#endif
static void expect(const char *what, int got, int want)
{
	ksft_test_result(got == want, "%s: %d (want %d)\n", what, got, want);
}

int main(int argc, char **argv)
{
	int heap, pidfd, buf, ret, state = controller_state();
	/* Without the controller nothing is checked; disabled, all is. */
	int want = state < 0 ? -EOPNOTSUPP : 0;

	ksft_print_header();
	ksft_set_plan(6);
	if (state == -2)
		ksft_exit_fail_msg("no /proc/cgroups\n");
	if (state == 1)
		ksft_exit_skip("the buffer controller is enabled: test_buffer tests it\n");
	ksft_print_msg("buffer controller %s\n", state < 0 ? "not built" : "disabled");

	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	pidfd = syscall(SYS_pidfd_open, getpid(), 0);
	if (heap < 0 || pidfd < 0)
		ksft_exit_fail_msg("no system heap or pidfd: %s\n", strerror(errno));

	buf = buffer_heap_alloc("system", 4096);
	ksft_test_result(buf >= 0, "heaps serve buffers\n");

	ret = buffer_heap_alloc_charged(heap, 4096, pidfd);
	expect("DMA_HEAP_FLAG_CHARGE_FD with our own pidfd", ret < 0 ? ret : 0, want);
	if (ret >= 0)
		close(ret);
	ret = buffer_heap_alloc_charged(heap, 4096, 9999);
	expect("DMA_HEAP_FLAG_CHARGE_FD with a closed fd", ret < 0 ? ret : 0,
	       state < 0 ? -EOPNOTSUPP : -EBADF);
	if (ret >= 0)
		close(ret);
	ret = buffer_heap_alloc_charged(heap, 4096, heap);
	expect("DMA_HEAP_FLAG_CHARGE_FD with a heap fd", ret < 0 ? ret : 0,
	       state < 0 ? -EOPNOTSUPP : -EINVAL);
	if (ret >= 0)
		close(ret);

#ifdef SERIES_MEMCG
	/*
	 * A buffer nobody was charged for cannot move, with or without; one
	 * that memcg charges (dma_heap.mem_accounting=1) moves there alone.
	 */
	expect("DMA_BUF_IOCTL_TRANSFER_CHARGE", buf >= 0 ? transfer_charge(buf, pidfd) : 0,
	       state == 0 && memcg_charges() ? 0 : -EOPNOTSUPP);
#else
	/* A buffer nobody was charged for cannot move, with or without. */
	expect("DMA_BUF_IOCTL_TRANSFER_CHARGE", buf >= 0 ? transfer_charge(buf, pidfd) : 0,
	       -EOPNOTSUPP);
#endif
	expect("DMA_BUF_IOCTL_TRANSFER_CHARGE with a closed fd",
	       buf >= 0 ? transfer_charge(buf, 9999) : 0,
	       state < 0 ? -EOPNOTSUPP : -EBADF);
	if (buf >= 0)
		close(buf);
	close(pidfd);
	close(heap);
	ksft_finished();
}
