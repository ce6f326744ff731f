// SPDX-License-Identifier: GPL-2.0
/*
 * icount: a QEMU TCG plugin that counts the instructions the guest executes
 * between two marks, in kernel mode and in user mode.
 *
 * A mark is a long NOP that nothing else executes: the guest program runs
 *
 *   nopl 0x42554601(%rax)   (0f 1f 80 01 46 55 42) to start counting,
 *   nopl 0x42554602(%rax)   (0f 1f 80 02 46 55 42) to stop,
 *
 * and each stop prints, through QEMU's log (-d plugin -D FILE):
 *
 *   icount mark=N kernel=K user=U own=O
 *
 * N counts the stops from 1, K and U the instructions executed since the
 * start at addresses of the upper (kernel) and lower (user) half of the
 * x86-64 address space, O those at addresses from START to END (exclusive)
 * of the argument own=START-END (hex; the code of the controller, say),
 * 0 without it. An instruction is counted each time it starts, so
 * one that faults and is restarted counts twice and each round of a rep
 * prefix once: what TCG executes, the same on every run of the same guest.
 *
 * The counters are plain variables incremented inline, which is exact with
 * one vCPU only (QEMU 7.2 has no per-vCPU inline counters): the plugin
 * refuses a guest with more. Host C against QEMU's qemu-plugin.h (Debian's
 * QEMU source); no other library.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static const unsigned char mark_start[] = { 0x0f, 0x1f, 0x80, 0x01, 0x46, 0x55, 0x42 };
static const unsigned char mark_stop[] = { 0x0f, 0x1f, 0x80, 0x02, 0x46, 0x55, 0x42 };

static uint64_t kernel_insns, user_insns, own_insns;
static uint64_t kernel_start, user_start, own_start, marks;
static uint64_t own_from, own_to;
static int counting;

static void on_start(unsigned int vcpu, void *udata)
{
	(void)vcpu;
	(void)udata;
	kernel_start = kernel_insns;
	user_start = user_insns;
	own_start = own_insns;
	counting = 1;
}

static void on_stop(unsigned int vcpu, void *udata)
{
	char line[128];

	(void)vcpu;
	(void)udata;
	if (!counting) {
		qemu_plugin_outs("icount: stop mark without a start mark\n");
		return;
	}
	counting = 0;
	snprintf(line, sizeof(line),
		 "icount mark=%" PRIu64 " kernel=%" PRIu64 " user=%" PRIu64 " own=%" PRIu64 "\n",
		 ++marks, kernel_insns - kernel_start, user_insns - user_start,
		 own_insns - own_start);
	qemu_plugin_outs(line);
}

static int is_mark(struct qemu_plugin_insn *insn, const unsigned char *mark)
{
	return qemu_plugin_insn_size(insn) == sizeof(mark_start) &&
	       !memcmp(qemu_plugin_insn_data(insn), mark, sizeof(mark_start));
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	size_t n = qemu_plugin_tb_n_insns(tb);

	(void)id;
	for (size_t i = 0; i < n; i++) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
		uint64_t vaddr = qemu_plugin_insn_vaddr(insn);

		qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
							   vaddr >> 63 ? &kernel_insns : &user_insns, 1);
		if (vaddr >= own_from && vaddr < own_to)
			qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
								   &own_insns, 1);
		if (is_mark(insn, mark_start))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
		else if (is_mark(insn, mark_stop))
			qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop,
							       QEMU_PLUGIN_CB_NO_REGS, NULL);
	}
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
					   int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		char *end;

		if (strncmp(argv[i], "own=", 4) ||
		    (own_from = strtoull(argv[i] + 4, &end, 16), *end != '-') ||
		    (own_to = strtoull(end + 1, &end, 16), *end) || own_to <= own_from) {
			fprintf(stderr, "icount: bad argument '%s' (own=START-END, hex)\n", argv[i]);
			return -1;
		}
	}
	if (info->system_emulation && info->system.max_vcpus > 1) {
		fprintf(stderr, "icount: counts exactly with one vCPU only (-smp 1)\n");
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
	return 0;
}
