#!/usr/bin/env python3
"""Turn the raw results of 'make bench' (build/bench/) into the table of
build/bench.txt, and print it. Reads icount-*.results, core-uml.ktap,
heap-*.ktap, profile-*, core-smp.console and e2e-*.results; see
PERFORMANCE.rst.

With --icount, the instruction counts alone (make bench-icount), to
build/bench-icount.txt; --bench DIR and --recorded FILE read other results
and another recorded run than build/bench and PERFORMANCE.rst (the test of
this script in make check)."""
import argparse
import glob
import os
import platform
import re
import statistics
import subprocess
import sys
import textwrap

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(TOP, 'build', 'bench')
SIZES = [(4096, '4 KiB'), (65536, '64 KiB'), (1 << 20, '1 MiB'), (16 << 20, '16 MiB')]
MODES = ['disabled', 'root', 'depth4', 'memcg']
# One hop through charge_fd, each against depth4 (a direct allocation).
ONEHOP = ['onehop-pidfd', 'onehop-cgroup', 'onehop-pidfd-delegated', 'onehop-cgroup-delegated']
CORE = re.compile(r'bench: (\S+) depth=(\d+) devices=(\d+) cpus=(\d+) '
                  r'ns=([\d.]+) min=([\d.]+) max=([\d.]+)')
HEAP = re.compile(r'bench: heap mode=(\S+) size=(\d+) ns=([\d.]+) min=[\d.]+ '
                  r'max=[\d.]+ floor_ratio=([\d.]+)')
HEAP_BUFFERS = re.compile(r'bench: heap mode=(\S+) size=(\d+) ns=([\d.]+) .* buffers=(\d+)')
# (case, mode, size): the profiled boots of bench-profile-uml.sh, and the
# size whose floor each case's cycles are a share of (all sizes ran in a
# case of 4 KiB, the size whose target they judge).
PROFILE_CASES = [('disabled', 'disabled', 4096), ('root', 'root', 4096),
                 ('depth4', 'depth4', 4096), ('depth4-1M', 'depth4', 1 << 20)]
# A line of 'perf report -n --sort symbol': overhead, samples, [.], symbol.
PERF_LINE = re.compile(r'^\s*[\d.]+%\s+(\d+)\s+\[\S\]\s+(\S+)')
PERF_STAT = re.compile(r'^([\d.]+),[^,]*,(cycles|task-clock),')
HEAP_MODES = ['disabled', 'root', 'depth1', 'depth4', 'memcg', 'memcg-page', 'memcg-none']
# The targets, in %: depth 4 over disabled at 4 KiB and from 1 MiB up; one
# hop over a direct allocation; 1024 devices against one; memcg's bulk
# charge over the buffer controller alone, at 4 KiB.
TARGET_4K, TARGET_BIG, TARGET_HOP, TARGET_DEVICES, TARGET_MEMCG = 1, 0.1, 5, 1, 5
ICOUNT = re.compile(r'^icount mode=(\S+) size=(\d+) allocs=(\d+) warmup=\d+ mark=\d+ '
                    r'kernel=(\d+) user=(\d+)(?: own=(\d+))?$')
# The counting boots' modes, in the table's order, each with what it is; a
# mode the results have and this list has not comes last, by its name.
ICOUNT_MODES = [
    ('disabled', 'cgroup_disable=buffer: the floor'),
    ('root', 'controller on, the task in the root cgroup'),
    ('depth4', 'the task at depth 4, buffer.max at every level'),
    ('onehop-pidfd', 'depth4\'s cgroup charged through charge_fd, a pidfd, as root'),
    ('onehop-cgroup', '... a cgroup fd, as root'),
    ('onehop-pidfd-delegated', '... a pidfd, as nobody with b3 and b4 delegated'),
    ('onehop-cgroup-delegated', '... a cgroup fd, as nobody, delegated'),
    ('memcg', 'cgroup_disable=buffer dma_heap.mem_accounting=1, depth 4'),
    ('memcg-none', 'cgroup_disable=buffer, memcg\'s depth 4: no dma-buf accounting'),
    ('memcg-buffer', 'depth4 with a memory.max at every level too'),
    ('drm-disabled', 'DRM dumb buffers of vgem (buffer-bench -D), cgroup_disable=buffer'),
    ('drm-root', '... the task in the root cgroup'),
    ('drm-depth4', '... at depth 4, drm/vgem limited at every level'),
    ('v4l2-disabled', 'vim2m\'s output queue (buffer-bench -V), cgroup_disable=buffer'),
    ('v4l2-root', '... the task in the root cgroup'),
    ('v4l2-depth4', '... at depth 4, vim2m limited at every level'),
    ('bench-memcg-none', 'the bench kernel: memcg-none'),
    ('bench-memcg', '... memcg, one bulk charge per buffer'),
    ('bench-memcg-page', '... memcg page by page (dma_heap.bench_page_accounting=1)'),
]
# Each family of modes and the mode that is its floor: the heaps' disabled
# controller; DRM's and V4L2's own; the bench kernel's memcg without dma-buf
# accounting (another kernel: no count of it compares with the test
# kernel's).
FAMILIES = [('drm-', 'drm-disabled'), ('v4l2-', 'v4l2-disabled'),
            ('bench-', 'bench-memcg-none'), ('', 'disabled')]


def floor_of(mode):
    return next(floor for prefix, floor in FAMILIES if mode.startswith(prefix))
# The heading of the instruction table in build/bench.txt, which the run
# recorded in PERFORMANCE.rst is read back by.
ICOUNT_HEAD = 'Kernel instructions per buffer'
E2E = re.compile(r'^bench mode=(\S+) repeat=(\d+) size=(\d+) allocs=\d+ '
                 r'seconds=[\d.]+ rate=([\d.]+)')


def icount_runs(bench):
    """{run: {(mode, size): (kernel, user, allocs, own)}} from the counting
    boots' icount-MODE-RUN.results."""
    runs = {}
    for path in glob.glob(os.path.join(bench, 'icount-*-*.results')):
        run = path[:-len('.results')].rsplit('-', 1)[1]
        with open(path) as f:
            for line in f:
                m = ICOUNT.match(line)
                if m:
                    runs.setdefault(run, {})[m[1], int(m[2])] = (
                        int(m[4]), int(m[5]), int(m[3]), int(m[6] or 0))
    return runs


def compare_runs(p, runs, name):
    """Says whether every run's counts are those of the first, naming the
    keys (name(key)) that differ."""
    first = runs[min(runs)]
    others = sorted(r for r in runs if r != min(runs))
    for run in others:
        differ = sorted(k for k in set(first) | set(runs[run]) if first.get(k) != runs[run].get(k))
        if differ:
            p(f'  run {run} DIFFERS from run {min(runs)} in {len(differ)} of {len(first)} counts: ' +
              ', '.join(name(k) for k in differ))
        else:
            p(f'  run {run} and run {min(runs)}: identical, all {len(first)} counts '
              '(kernel and user) to the instruction.')
    if not others:
        p('  only one run: nothing to compare.')
    p('')


ICOUNT_CORE = re.compile(r'^icount core=(\S+) depth=(\d+) devices=(\d+) iterations=(\d+) '
                         r'mark=(\d+) kernel=(\d+) user=(\d+)(?: own=\d+)?$')


def icount_core(p, bench):
    """The charge path's instructions, to p(); returns {(what, depth,
    devices): instructions per pair}, or None without counts."""
    runs = {}
    for path in glob.glob(os.path.join(bench, 'icount-core-*.results')):
        run = path[:-len('.results')].rsplit('-', 1)[1]
        with open(path) as f:
            for m in map(ICOUNT_CORE.match, f):
                if m:
                    runs.setdefault(run, {})[int(m[5]), m[1], int(m[2]), int(m[3])] = (
                        int(m[6]), int(m[7]), int(m[4]))
    if not runs:
        p('Charge path instructions: not counted, no build/bench/icount-core-*.results.')
        p('')
        return None
    # Depth 4 with one device runs in both cases; the devices case's is kept.
    per = {key[1:]: kernel / n for key, (kernel, _, n) in sorted(runs[min(runs)].items())}
    p('Charge path: kernel instructions per charge + uncharge of 64 KiB (the KUnit')
    p('suite buffer_cg_bench of the bench kernel, each loop once between the marks,')
    p('counted as above). Each boot ran twice:')
    compare_runs(p, runs, lambda key: 'mark {} {} depth={} devices={}'.format(*key))
    p(f'  {"depth":>5}  {"page_counter":>12}  {"try_charge":>12}  {"charge_record":>13}')
    for depth in sorted({d for _, d, n in per if n <= 1}):
        p(f'  {depth:>5}' + ''.join(
            f'  {per[what, depth, n]:>{w}.1f}' if (what, depth, n) in per else f'  {"-":>{w}}'
            for what, n, w in (('page_counter', 0, 12), ('try_charge', 1, 12),
                               ('charge_record', 1, 13))))
    p('  try_charge at depth 4 with N devices registered (the last one charged):')
    ones = per.get(('try_charge', 4, 1))
    for n in sorted(n for what, d, n in per if what == 'try_charge' and d == 4):
        v = per['try_charge', 4, n]
        p(f'  {n:>5} devices  {v:8.1f}' + (f'  x{v / ones:.4f} of 1 device' if ones else ''))
    p('')
    return per


def icount_recorded(path):
    """(commit, {(mode, size): kernel instructions per buffer}) of the run
    recorded in PERFORMANCE.rst: the rows below ICOUNT_HEAD, up to a blank
    line."""
    commit, rows, table = None, {}, False
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return None, {}
    for line in lines:
        m = re.search(r'buffer_cg benchmark: commit (\S+),', line)
        if m:
            commit = m[1]
        if ICOUNT_HEAD in line:
            table = True
        elif table and not line.strip():
            if rows:
                break
        elif table and not line.strip().startswith('mode'):
            words = line.split()
            if len(words) == len(SIZES) + 1:
                try:
                    for (size, _), word in zip(SIZES, words[1:]):
                        rows[words[0], size] = float(word)
                except ValueError:
                    pass
    return commit, rows


def icount_section(p, bench, recorded):
    """The instruction tables, to p(); returns {(mode, size): kernel
    instructions per buffer}, or None without counts."""
    runs = icount_runs(bench)
    if not runs:
        p('Instructions: not counted, no build/bench/icount-*.results (make bench-icount).')
        p('')
        return None
    first = runs[min(runs)]
    known = [mode for mode, _ in ICOUNT_MODES]
    modes = [m for m in known if any(k[0] == m for k in first)]
    modes += sorted({k[0] for k in first} - set(known))
    per = {key: kernel / allocs for key, (kernel, _, allocs, _) in first.items()}
    own = {key: o / allocs for key, (_, _, allocs, o) in first.items()}
    p('Exact for this QEMU and this kernel (its compiler):')
    p(f'  {tool_version(["qemu-system-x86_64"])}')
    p(f'  {kernel_compiler()}')
    p('')
    p(f'{ICOUNT_HEAD}: guest instructions in kernel mode per DMA_HEAP_IOCTL_ALLOC')
    p('+ close from the system heap (drm-*: DRM_IOCTL_MODE_CREATE_DUMB + DESTROY_DUMB')
    p('on vgem; v4l2-*: VIDIOC_CREATE_BUFS + REQBUFS(0) on vim2m), counted by the QEMU')
    p('plugin tools/icount between the marks of buffer-bench -n (one vCPU, -icount:')
    p('guest time from the count; see PERFORMANCE.rst). Each boot ran twice:')
    compare_runs(p, runs, lambda key: f'{key[0]} {dict(SIZES)[key[1]]}')
    cell = lambda v: f'{v:>12.1f}'
    p(f'  {"mode":<24}' + ''.join(f'{label:>12}' for _, label in SIZES))
    for mode in modes:
        p(f'  {mode:<24}' + ''.join(cell(per[mode, size]) if (mode, size) in per
                                    else f'{"-":>12}' for size, _ in SIZES))
    what = dict(ICOUNT_MODES)
    for mode in modes:
        if mode in what:
            p(f'    {mode}: {what[mode]}')
    p('')
    def rows(title, value, family):
        p(title)
        for mode in family:
            floor = floor_of(mode)
            p(f'  {mode:<24}' + ''.join(
                f'{value(mode, floor, size):>12}' if (mode, size) in per and (floor, size) in per
                else f'{"-":>12}' for size, _ in SIZES))
        p('')

    heaps = [m for m in modes if floor_of(m) == 'disabled' and m != 'disabled']
    others = [m for m in modes if floor_of(m) != 'disabled' and m != floor_of(m)]
    if heaps:
        rows('  Ratio to disabled:', lambda m, f, s: f'{per[m, s] / per[f, s]:.5f}', heaps)
        rows('  Instructions added per buffer over disabled:',
             lambda m, f, s: f'{per[m, s] - per[f, s]:+.1f}', heaps)
    if others:
        p('  DRM and V4L2 buffers, and memcg in the bench kernel, each over its own floor')
        p('  (' + ', '.join(f for _, f in FAMILIES[:-1]) + '):')
        rows('  Ratio to the floor:', lambda m, f, s: f'{per[m, s] / per[f, s]:.5f}', others)
        rows('  Instructions added per buffer over the floor:',
             lambda m, f, s: f'{per[m, s] - per[f, s]:+.1f}', others)
    if all(('depth4', size) in per for size, _ in SIZES):
        hops = [m for m in modes if m.startswith('onehop')]
        if hops:
            p('  One hop through charge_fd, ratio to depth4 (the client allocating for itself):')
            for mode in hops:
                p(f'  {mode:<24}' + ''.join(f'{per[mode, s] / per["depth4", s]:>12.5f}'
                                            if (mode, s) in per else f'{"-":>12}'
                                            for s, _ in SIZES))
            p('')
    if any(own.values()):
        p("  In the controller's own code (kernel/cgroup/buffer_cg*.c: what it executes")
        p('  itself, not its callees nor the allocator state it leaves), per buffer, and')
        p("  over the mode's floor (disabled, for the heaps), where the disabled")
        p('  controller is entered too, to find it off:')
        p(f'  {"mode":<24}' + ''.join(f'{label:>12}' for _, label in SIZES))
        for mode in modes:
            floor = floor_of(mode)
            p(f'  {mode:<24}' + ''.join(
                f'{own[mode, s]:>7.1f} {own[mode, s] - own[floor, s]:>+4.0f}'
                if (mode, s) in own and (floor, s) in own else f'{"-":>12}' for s, _ in SIZES))
        p('')
    commit, old = icount_recorded(recorded)
    if old:
        p(f'  Difference from the run recorded in PERFORMANCE.rst (commit {commit}),')
        p('  instructions per buffer (0 = the same count):')
        def change(mode, s):
            if (mode, s) not in old or (mode, s) not in per:
                return 'new'
            d = f'{per[mode, s] - old[mode, s]:+.1f}'
            return '0' if d in ('+0.0', '-0.0') else d

        for mode in modes:
            p(f'  {mode:<24}' + ''.join(f'{change(mode, s):>12}' for s, _ in SIZES))
    else:
        p('  No run recorded in PERFORMANCE.rst to compare with.')
    p('')
    return per, own


def depth4_targets(p, per, own, prefix, what):
    """The depth-4 targets of one family of modes (PREFIXdisabled, root,
    depth4), to p(); returns (whole, d_own) for the other targets, or None
    without its counts."""
    floor, root, depth4 = (prefix + m for m in ('disabled', 'root', 'depth4'))
    need = [(m, s) for m in (floor, root, depth4) for s, _ in SIZES]
    if not all(k in per and k in own for k in need) or not any(own.values()):
        p(f'  ({what}: no instruction counts of {floor}, {root} and {depth4} with the'
          ' controller\'s own)')
        return None
    base = {s: per[floor, s] for s, _ in SIZES}

    def d_total(mode, s):
        return per[mode, s] - base[s]

    def d_own(mode, s):
        return own[mode, s] - own[floor, s]

    # What the whole count adds beyond the controller's code in the direct
    # modes: its callees (a few) and the allocator state the mode's run
    # leaves, which moves the count either way.
    state = {s: max(abs(d_total(m, s) - d_own(m, s)) for m in (root, depth4))
             for s, _ in SIZES}
    p(f'  {what} buffers, over {floor}:')
    p(f'  allocator state: in {root} and {depth4} the whole count moves beyond the')
    p('  controller\'s own code by up to ' + ', '.join(
        f'{state[s]:.0f} at {label}' for s, label in SIZES))
    p('  (instructions per buffer)')

    def whole(ok, margin, s, mode=None):
        """verdict() of a whole-count comparison, margin in instructions;
        not where the mode reads below the floor, which only the state
        it leaves can make it do (and which the state's term includes)."""
        if mode and d_total(mode, s) < 0:
            return 'not resolved (reads below the floor: allocator state)'
        return verdict(ok) if abs(margin) > state[s] else 'not resolved (allocator state)'

    mine = {s: d_own(depth4, s) / base[s] * 100 for s, _ in SIZES}
    tot = {s: d_total(depth4, s) / base[s] * 100 for s, _ in SIZES}
    lim = TARGET_4K * base[4096] / 100
    p(f'  depth-4 overhead at 4 KiB <= {TARGET_4K}%: own code {mine[4096]:.3f}%  '
      f'{verdict(mine[4096] <= TARGET_4K)}')
    p(f'    whole count {tot[4096]:.3f}%  '
      f'{whole(tot[4096] <= TARGET_4K, d_total(depth4, 4096) - lim, 4096, depth4)}')
    big = max(SIZES[2:], key=lambda sl: mine[sl[0]])[0]
    if base[SIZES[-1][0]] < 2 * base[SIZES[0][0]]:
        # The 0.1% target rests on a large buffer costing its allocator
        # more than a small one (vgem gives a dumb buffer its pages on
        # first use, not at creation); where it does not, a large buffer
        # is judged as a small one.
        worst = max(SIZES, key=lambda sl: mine[sl[0]])
        p(f'  depth-4 overhead from 1 MiB up <= {TARGET_BIG}%: not judged: {floor} does not grow')
        p(f'    with the size; at every size <= {TARGET_4K}% instead: own code worst '
          f'{mine[worst[0]]:.3f}% at {worst[1]}  {verdict(mine[worst[0]] <= TARGET_4K)}')
    else:
        p(f'  depth-4 overhead from 1 MiB up <= {TARGET_BIG}%: own code worst {mine[big]:.4f}%  '
          f'{verdict(mine[big] <= TARGET_BIG)}')
        for s, label in SIZES[2:]:
            p(f'    whole count at {label} {tot[s]:.4f}%  '
              f'{whole(tot[s] <= TARGET_BIG, d_total(depth4, s) - TARGET_BIG * base[s] / 100, s, depth4)}')
    # Flat: what the controller adds grows by less than one instruction
    # per page between sizes of the same path (the stock up to 256 KiB, the
    # counters from 1 MiB); per-page accounting (memcg) adds hundreds.
    pairs = ((4096, 65536), (1 << 20, 16 << 20))
    slope = max((d_own(depth4, b) - d_own(depth4, a)) / ((b - a) / 4096) for a, b in pairs)
    p(f'  flat in buffer size: the controller\'s own code at depth 4 grows by {slope:+.4f}')
    p(f'    instructions per page from 4 to 64 KiB and from 1 to 16 MiB (the larger), < 1  '
      f'{verdict(slope < 1)}')
    return whole, d_own


def memcg_page_counts(p, per):
    """memcg page by page beside its bulk charge, in the bench kernel, to
    p(): no target, what each adds."""
    modes = ('bench-memcg-none', 'bench-memcg', 'bench-memcg-page')
    if all((m, s) in per for m in modes for s, _ in SIZES):
        def growth(mode, a, b):
            return ((per[mode, b] - per[modes[0], b]) -
                    (per[mode, a] - per[modes[0], a])) / ((b - a) / 4096)

        p('  memcg page by page beside its bulk charge (the bench kernel, over')
        p('  bench-memcg-none), whole count, no target:')
        for m in modes[1:]:
            p(f'    {m:<18} ' + ', '.join(
                f'{per[m, s] - per[modes[0], s]:+.0f} at {label}' for s, label in SIZES))
            p(f'    {"":<18} grows {growth(m, 4096, 65536):+.1f} per page from 4 to 64 KiB, '
              f'{growth(m, 1 << 20, 16 << 20):+.1f} from 1 to 16 MiB')
        p('    page by page / bulk: ' + ', '.join(
            f'x{per[modes[2], s] / per[modes[1], s]:.3f} at {label}' for s, label in SIZES))


def icount_targets(p, counts, core=None):
    """The targets that instructions judge: each by the controller's own
    code, which no allocator state moves, and by the whole kernel's count,
    resolved only where the allocator state's term is smaller than the
    margin."""
    if core and ('try_charge', 4, 1) in core:
        most = max(n for what, d, n in core if what == 'try_charge' and d == 4)
        r = core['try_charge', 4, most] / core['try_charge', 4, 1]
        p(f'  core at {most} devices within {TARGET_DEVICES}% of 1 device: x{r:.4f}  '
          f'{verdict(abs(r - 1) * 100 <= TARGET_DEVICES)}')
    per, own = counts
    memcg_page_counts(p, per)
    judged = [depth4_targets(p, per, own, prefix, what)
              for prefix, what in (('', 'heap'), ('drm-', 'DRM'), ('v4l2-', 'V4L2'))]
    if not judged[0]:
        return
    whole, d_own = judged[0]
    hops = [m for m, _ in ICOUNT_MODES if m.startswith('onehop')
            and all((m, s) in per for s, _ in SIZES)]
    if hops:
        p(f'  one hop through charge_fd <= {1 + TARGET_HOP / 100:.2f} x a direct allocation (depth4),')
        p('  whole count (the charge_fd path is mostly outside the controller: fget,')
        p('  pidfd, capabilities, css references), worst size of each:')
        for m in hops:
            s, label = max(SIZES, key=lambda sl: per[m, sl[0]] / per['depth4', sl[0]])
            r = per[m, s] / per['depth4', s]
            margin = per[m, s] - per['depth4', s] * (1 + TARGET_HOP / 100)
            p(f'    {m:<24} x{r:.4f} at {label}  {whole(r <= 1 + TARGET_HOP / 100, margin, s)}'
              f'; own code +{d_own(m, s) - d_own("depth4", s):.0f}')
    if all((m, s) in per for m in ('memcg', 'memcg-buffer') for s in (4096, 65536)):
        r = per['memcg', 4096] / per['memcg-buffer', 4096]
        margin = per['memcg', 4096] - per['memcg-buffer', 4096] * (1 + TARGET_MEMCG / 100)
        p(f'  memcg\'s bulk charge at 4 KiB <= {1 + TARGET_MEMCG / 100:.2f} x the buffer controller')
        p('    alone, the task in a memory cgroup in both (memcg / memcg-buffer),')
        p(f'    whole count: x{r:.4f}  {whole(r <= 1 + TARGET_MEMCG / 100, margin, 4096)}')
        if ('memcg-none', 4096) in per:
            p('    over memcg-none (the kernel objects any task in a memory cgroup')
            p('    pays for): ' + ', '.join(
                f'{m} {per[m, 4096] - per["memcg-none", 4096]:+.0f}'
                for m in ('memcg', 'memcg-buffer')) + ' instructions per buffer')
        m = ((per['memcg', 65536] - per['disabled', 65536]) -
             (per['memcg', 4096] - per['disabled', 4096])) / 15
        p(f'    (memcg, one charge per buffer, whole count over disabled: {m:+.1f} per page')
        p('    from 4 to 64 KiB)')

def core_lines(path):
    """{(what, depth, devices, cpus): (median, min, max)} from a log of one
    or more boots: the median of the boots' medians, the min and max of all
    their loops. A case printed twice in a boot counts as two samples."""
    found = {}
    with open(path, errors='replace') as f:
        for line in f:
            m = CORE.search(line)
            if m:
                key = (m[1], int(m[2]), int(m[3]), int(m[4]))
                found.setdefault(key, []).append(tuple(float(x) for x in m.group(5, 6, 7)))
    return {key: (statistics.median(r[0] for r in runs), min(r[1] for r in runs),
                  max(r[2] for r in runs))
            for key, runs in found.items()}


def heap_runs():
    """{(mode, size): [(ns, ratio to the floor), one per boot]}."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(BENCH, 'heap-*.ktap'))):
        with open(path, errors='replace') as f:
            for line in f:
                m = HEAP.search(line)
                if m:
                    runs.setdefault((m[1], int(m[2])), []).append((float(m[3]), float(m[4])))
    return runs


def controller_functions():
    """Names of the functions the controller's files define (its tests and
    benchmark left out)."""
    names = set()
    for path in glob.glob(os.path.join(TOP, 'kernel', 'cgroup', 'buffer_cg*.[ch]')):
        if path.endswith(('_test.c', '_bench.c')):
            continue
        with open(path) as f:
            names |= set(re.findall(r'^(?:static )?(?:inline )?[a-z].*?\b(\w+)\(', f.read(), re.M))
    return names


def profile_runs():
    """(why it is missing, None) or (None, {case: {'cycles': [cycles per
    buffer in the controller, one per boot], 'functions': {name: [cycles per
    buffer]}, 'ghz': clock rate, 'floor_ns': floor at the case's size,
    unsampled}})."""
    unavailable = os.path.join(BENCH, 'profile-unavailable')
    if os.path.exists(unavailable):
        with open(unavailable) as f:
            return f.read().strip(), None
    ours = controller_functions()
    found = {}
    for case, mode, size in PROFILE_CASES:
        try:
            with open(os.path.join(BENCH, f'profile-{case}.period')) as f:
                period = int(f.read())
        except OSError:
            return f'no profile of {case} in build/bench', None
        entry = found[case] = {'cycles': [], 'functions': {}}
        stat = {}
        with open(os.path.join(BENCH, f'profile-{case}-clock.stat')) as f:
            for line in f:
                m = PERF_STAT.match(line)
                if m:
                    stat[m[2]] = float(m[1])
        entry['ghz'] = stat['cycles'] / (stat['task-clock'] * 1e6)
        with open(os.path.join(BENCH, f'profile-{case}-clock.ktap')) as f:
            entry['floor_ns'] = next(float(m[3]) for m in map(HEAP_BUFFERS.search, f)
                                     if m and m[1] == 'floor' and int(m[2]) == size)
        boot = re.compile(re.escape(f'profile-{case}-') + r'\d+\.report$')
        for report in sorted(r for r in glob.glob(os.path.join(BENCH, f'profile-{case}-*.report'))
                             if boot.search(r)):
            with open(report[:-len('.report')] + '.ktap') as f:
                buffers = sum(int(m[4]) for m in map(HEAP_BUFFERS.search, f)
                              if m and m[1] == mode)
            samples = {}
            with open(report) as f:
                for m in map(PERF_LINE.match, f):
                    if m and m[2] in ours:
                        samples[m[2]] = samples.get(m[2], 0) + int(m[1])
            entry['cycles'].append(sum(samples.values()) * period / buffers)
            for name, n in samples.items():
                entry['functions'].setdefault(name, []).append(n * period / buffers)
        if not entry['cycles']:
            return f'no profiled boots of {case} in build/bench', None
    return None, found


def e2e_runs():
    """{(boot file, repeat, mode, size): allocations per second}."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(BENCH, 'e2e-*.results'))):
        with open(path) as f:
            for line in f:
                m = E2E.match(line)
                if m:
                    runs[path, m[2], m[1], int(m[3])] = float(m[4])
    return runs


def e2e_rates(runs):
    """{(mode, size): [allocations per second, one per run]}."""
    rates = {}
    for (_, _, mode, size), rate in runs.items():
        rates.setdefault((mode, size), []).append(rate)
    return rates


def paired_ratios(runs, mode, base):
    """{size: [rate(mode) / rate(base)]} for runs of the same boot and repeat."""
    ratios = {}
    for (path, rep, mode_, size), rate in runs.items():
        other = runs.get((path, rep, base, size))
        if mode_ == mode and other:
            ratios.setdefault(size, []).append(rate / other)
    return ratios


def cpu_model():
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                return line.split(':', 1)[1].strip()
    return platform.processor()


def commit():
    try:
        return subprocess.run(['git', '-C', TOP, 'describe', '--always', '--dirty'],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def tool_version(cmd):
    """The first line of CMD --version, or 'unknown'."""
    try:
        return subprocess.run(cmd + ['--version'], capture_output=True, text=True,
                              check=True).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return 'unknown'


def kernel_compiler():
    """The test kernel's LINUX_COMPILER, or 'unknown'."""
    try:
        with open(os.path.join(TOP, 'build', 'kernel-test', 'include', 'generated',
                               'compile.h')) as f:
            return re.search(r'LINUX_COMPILER\s+"(.*)"', f.read())[1]
    except (OSError, TypeError):
        return 'unknown compiler'


def verdict(ok, noise=None, target=None):
    """met or MISSED; or, where the disabled mode alone spreads by more than
    the target (noise and target in %), that the measure cannot tell."""
    if noise is not None and noise > target:
        return f'not resolved, disabled alone spreads {noise:.2f}%'
    return 'met' if ok else 'MISSED'


def verdicts(ok, ok_best, noise, target):
    """verdict() of a median and, in brackets, of the best runs."""
    if noise > target:
        return verdict(ok, noise, target)
    return f'{verdict(ok)} [{verdict(ok_best)}]'


def write(text, name):
    with open(os.path.join(TOP, 'build', name), 'w') as f:
        f.write(text)
    sys.stdout.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--icount', action='store_true', help='the instruction counts alone')
    parser.add_argument('--bench', default=BENCH,
                        help='where the instruction counts are (build/bench)')
    parser.add_argument('--recorded', default=os.path.join(TOP, 'PERFORMANCE.rst'),
                        help='the page with the recorded run')
    args = parser.parse_args()
    out = []
    p = out.append
    if args.icount:
        p(f'buffer_cg benchmark: commit {commit()}, instructions only (make bench-icount)')
        p('')
        counts = icount_section(p, args.bench, args.recorded)
        core = icount_core(p, args.bench)
        if counts is None:
            sys.exit('bench-report: no instruction counts in ' + args.bench)
        p('Targets, by instructions (exact; see PERFORMANCE.rst for what they leave out)')
        icount_targets(p, counts, core)
        text = '\n'.join(out) + '\n'
        if args.bench == BENCH:
            write(text, 'bench-icount.txt')
        else:
            sys.stdout.write(text)
        return
    uml = core_lines(os.path.join(BENCH, 'core-uml.ktap'))
    smp = core_lines(os.path.join(BENCH, 'core-smp.console'))
    e2e = e2e_runs()
    rates = e2e_rates(e2e)
    heap = heap_runs()
    profile_missing, profile = profile_runs()
    if not uml or not smp or not rates or not heap:
        sys.exit('bench-report: results missing in build/bench; run make bench')

    p(f'buffer_cg benchmark: commit {commit()}, host {cpu_model()}, '
      f'{os.cpu_count()} CPUs')
    p('')
    counts = icount_section(p, args.bench, args.recorded)
    core = icount_core(p, args.bench)
    p('Core: ns per buffer_cg_try_charge() + buffer_cg_uncharge() of 64 KiB,')
    p('median over boots of the median of 7 timed loops (min-max of all loops),')
    p('UML (native speed), one CPU.')
    p('Depth = levels below the root, each with a buffer.max; the floor is the')
    p('same loop on a bare page_counter chain of depth + 1 counters: a controller')
    p('that counts in the root as well (misc, rdma) walks as many levels. This one')
    p('leaves the root out, as memcg does.')
    p('')
    p(f'  {"depth":>5}  {"page_counter":>20}  {"try_charge":>20}  {"charge_record":>20}  {"over floor":>10}')
    for depth in (1, 4, 16):
        pc = uml[('page_counter', depth, 0, 1)]
        tc = uml[('try_charge', depth, 1, 1)]
        cr = uml[('charge_record', depth, 1, 1)]
        cell = lambda r: f'{r[0]:.1f} ({r[1]:.1f}-{r[2]:.1f})'
        p(f'  {depth:>5}  {cell(pc):>20}  {cell(tc):>20}  {cell(cr):>20}  {tc[0] - pc[0]:>+9.1f}')
    p('  charge_record: buffer_cg_charge() + buffer_cg_charge_release() of a record;')
    p('  after the first pair the CPU\'s stock serves both, whatever the depth.')
    p('  try_charge keeps no record and always walks the counters.')
    p('')
    p('  try_charge at depth 4 with N devices registered (the last one charged):')
    one = uml[('try_charge', 4, 1, 1)][0]
    one_fastest = uml[('try_charge', 4, 1, 1)][1]
    dev_ratio, dev_fastest = {}, {}
    for n in (1, 64, 1024):
        r = uml[('try_charge', 4, n, 1)]
        dev_ratio[n], dev_fastest[n] = r[0] / one, r[1] / one_fastest
        p(f'  {n:>5} devices  {r[0]:8.1f} ns ({r[1]:.1f}-{r[2]:.1f})  x{dev_ratio[n]:.3f} of 1 device'
          f'  [fastest loops x{dev_fastest[n]:.3f}]')
    p('  On a loaded host whole boots, or long stretches of one, run at half speed')
    p('  (min and max of one case twice apart); noise only ever slows a loop down,')
    p('  so the fastest loops in brackets are the cleanest estimate.')
    p('')
    ref = uml[('percpu_ref', 0, 0, 1)]
    p(f'  percpu_ref get + put: {ref[0]:.1f} ns ({ref[1]:.1f}-{ref[2]:.1f}), what a reference taken')
    p('  per buffer would cost. A charge record takes none: its pool holds its cgroup')
    p('  and its device. UML has no per-CPU atomics and saves and restores interrupts')
    p('  around each update, which x86 does in one instruction.')
    p('')
    s1, s2 = smp[('try_charge', 4, 1, 1)], smp[('try_charge', 4, 1, 2)]
    p('  Two CPUs charging one cgroup at depth 4 (QEMU TCG, 2 vCPUs; ns are')
    p('  emulated, compare only with each other): ns per pair as each CPU sees it')
    p(f'      1 CPU  {s1[0]:8.1f} ns ({s1[1]:.1f}-{s1[2]:.1f})')
    p(f'     2 CPUs  {s2[0]:8.1f} ns ({s2[1]:.1f}-{s2[2]:.1f})  x{s2[0] / s1[0]:.2f}')
    p('')

    boots = len(glob.glob(os.path.join(BENCH, 'heap-disabled-*.ktap')))
    p('Native: the system heap\'s allocation path in the kernel (KUnit dma_heap_bench,')
    p('UML, one CPU): dma_heap_ioctl_allocate() and the release of the buffer, that is')
    p('DMA_HEAP_IOCTL_ALLOC + close without the two system calls, so any overhead')
    p('shows larger than end to end. Each mode as its ratio to the floor (the heap\'s')
    p('allocate() with no accounting code) timed in the same sample; median over')
    p(f'{boots} boots per mode, min..max over boots in brackets. Boots: disabled')
    p('(cgroup_disable=buffer), enabled (root, depth1, depth4), memcg')
    p('(cgroup_disable=buffer dma_heap.mem_accounting=1: memcg, each buffer in')
    p('one bulk charge; memcg-page, each page with __GFP_ACCOUNT as later kernels')
    p('charge it; memcg-none, no dma-buf accounting, what the kernel objects of')
    p('an allocation cost in a memory cgroup), all four levels of memory.max deep.')
    p('')
    hratio, hfloor = {}, {}
    head = f'  {"size":>7}  {"floor ns":>9}'
    for mode in HEAP_MODES:
        head += f'  {mode:>21}'
    p(head)
    for size, label in SIZES:
        hfloor[size] = statistics.median(ns for ns, _ in heap[('floor', size)])
        row = f'  {label:>7}  {hfloor[size]:>9.1f}'
        for mode in HEAP_MODES:
            r = [ratio for _, ratio in heap.get((mode, size), [])]
            if not r:
                sys.exit(f'bench-report: no native {mode} runs at {label}')
            hratio[mode, size] = statistics.median(r)
            row += f'  {hratio[mode, size]:>7.4f} ({min(r):.3f}..{max(r):.3f})'
        p(row)
    p('')
    p('  Cost per buffer over the floor, ns ((ratio - 1) x floor ns):')
    for mode in HEAP_MODES:
        p(f'  {mode:>10}  ' + '  '.join(
            f'{label} {(hratio[mode, size] - 1) * hfloor[size]:+9.1f}'
            for size, label in SIZES))
    noise = (lambda r: (max(r) - min(r)) / statistics.median(r) * 100)(
        [ratio for _, ratio in heap[('disabled', 4096)]])
    p('  memcg at 4 KiB against the buffer controller alone, target <= '
      f'{1 + TARGET_MEMCG / 100:.2f} for')
    p('  the bulk charge: (memcg / memcg-none) / (depth4 / floor), each accounting\'s')
    p('  cost over the same allocation without it, the kernel objects a task in a')
    p('  memory cgroup pays for in both memcg modes left out:')
    for mode in ('memcg', 'memcg-page'):
        r = hratio[mode, 4096] / hratio['memcg-none', 4096] / hratio['depth4', 4096]
        p(f'  {mode:>10}  x{r:.4f}  ' + (
            verdict(r <= 1 + TARGET_MEMCG / 100, noise, TARGET_MEMCG)
            if mode == 'memcg' else '(per page, for comparison)'))
    p('  These ratios also move by two to four percent with how a build lays out')
    p('  code and data, which no number of boots averages out: a change that runs')
    p('  the same instructions in one mode moved that mode\'s ratio that much.')
    p('')
    share = {}
    if profile:
        boots = min(len(v['cycles']) for v in profile.values())
        p('Native, by profile: the cycles spent in the controller\'s own functions')
        p('(those of kernel/cgroup/buffer_cg*.c) per buffer, from perf samples of the')
        p(f'same UML kernel running dma_heap_bench in one mode beside the floor ({boots} boots')
        p('per case, median, min..max over boots). The disabled controller still')
        p('enters its functions, to find it is off; the cycles over that are the')
        p('overhead, in ns at the clock rate of a boot that only counts, and as a')
        p('share of that boot\'s floor. Cases root and depth4 run every size and are a')
        p('share of the floor at 4 KiB; depth4 1M runs 1 MiB buffers alone, which the')
        p('CPU\'s stock does not keep. This does not move with the layout, and leaves')
        p('out only what the controller makes other code pay, such as cache lines it')
        p('evicts.')
        p('')
        p(f'  {"case":>9}  {"cycles/buffer":>16}  {"over disabled":>13}  {"ns":>5}  {"GHz":>5}'
          f'  {"of the floor":>26}')
        entry_cycles = statistics.median(profile['disabled']['cycles'])
        for case, _, size in PROFILE_CASES:
            e = profile[case]
            c = statistics.median(e['cycles'])
            cell = f'{c:.0f} ({min(e["cycles"]):.0f}..{max(e["cycles"]):.0f})'
            if case == 'disabled':
                p(f'  {case:>9}  {cell:>16}')
                continue
            over = c - entry_cycles
            ns = over / e['ghz']
            share[case] = ns / e['floor_ns'] * 100
            label = dict(SIZES)[size]
            p(f'  {case.replace("-", " "):>9}  {cell:>16}  {over:>13.0f}  {ns:>5.1f}  {e["ghz"]:>5.2f}'
              f'  {share[case]:>8.2f}% of {e["floor_ns"]:.0f} ns at {label}')
        funcs = profile['depth4']['functions']
        p('  depth4 by function, cycles per buffer: ' + ', '.join(
            f'{name} {statistics.median(v):.0f}'
            for name, v in sorted(funcs.items(), key=lambda kv: -statistics.median(kv[1]))))
    else:
        p(f'Native, by profile: not measured, {profile_missing}.')
    p('')

    runs = min(len(v) for v in rates.values())
    boots = len(glob.glob(os.path.join(BENCH, 'e2e-disabled-*.results')))
    p('End to end: DMA_HEAP_IOCTL_ALLOC + close per second from the system heap,')
    p(f'one task in a QEMU TCG guest (uniprocessor test kernel); median of {runs} runs')
    p(f'({boots} boots per mode), spread = min..max as % of the median;')
    p('ratio = median / disabled median.')
    p('  disabled: cgroup_disable=buffer        root: controller on, task in the root')
    p('  depth4: task at depth 4, buffer.max at every level')
    p('  memcg: cgroup_disable=buffer dma_heap.mem_accounting=1, task at depth 4,')
    p('         memory.max at every level')
    p('')
    head = f'  {"size":>7}  {"disabled /s":>19}'
    for mode in MODES[1:]:
        head += f'  {mode + " ratio":>21}'
    p(head)
    med = {}
    for size, label in SIZES:
        row = f'  {label:>7}'
        for mode in MODES:
            v = rates.get((mode, size))
            if not v:
                sys.exit(f'bench-report: no {mode} runs at {label}')
            m = statistics.median(v)
            med[mode, size] = m
            spread = f'{(min(v) - m) / m * 100:+.1f}/{(max(v) - m) / m * 100:+.1f}%'
            if mode == 'disabled':
                row += f'  {m:>9.1f} {spread:>9}'
            else:
                row += f'  {m / med["disabled", size]:>9.4f} {spread:>11}'
        p(row)
    p('')
    p('  Best runs (host interference only ever slows a run down, so the fastest')
    p('  run of each mode is the cleanest estimate), ratio to the best disabled run:')
    best = {(mode, size): max(rates[mode, size]) for mode in MODES for size, _ in SIZES}

    def per_mode_rows(cell):
        for mode in MODES[1:]:
            p(f'  {mode:>8}  ' + '  '.join(f'{label} {cell(mode, size)}' for size, label in SIZES))
        p('')

    per_mode_rows(lambda mode, size: f'{best[mode, size] / best["disabled", size]:.4f}')
    p('  Cost per buffer over disabled, in us (1/rate - 1/rate_disabled, medians):')
    per_mode_rows(lambda mode, size: f'{1e6 / med[mode, size] - 1e6 / med["disabled", size]:+8.2f}')
    p('  depth4 / root in the same boots (paired by boot and repeat, which')
    p('  cancels the boot-to-boot noise), median ratio:')
    paired = paired_ratios(e2e, 'depth4', 'root')
    p('  ' + '  '.join(f'{label} {statistics.median(paired[size]):.4f}' for size, label in SIZES))
    p('')
    p('  One hop: the allocator in /b1/b2/b3/alloc charges /b1/b2/b3/b4 through')
    p('  charge_fd (a pidfd of a client there, or the cgroup\'s directory), as root')
    p('  or as nobody with b4 and b3 delegated; time per buffer as a ratio to depth4')
    p('  (the client allocating for itself), paired by boot and repeat, median:')
    hop = {}
    for mode in ONEHOP:
        paired = paired_ratios(e2e, mode, 'depth4')
        if not all(paired.get(size) for size, _ in SIZES):
            sys.exit(f'bench-report: no {mode} runs')
        hop[mode] = {size: statistics.median(1 / r for r in paired[size]) for size, _ in SIZES}
        p(f'  {mode:>23}  ' + '  '.join(f'{label} {hop[mode][size]:.4f}' for size, label in SIZES))
    p('')
    p('  For scale: the core costs, natively (UML, above), '
      f'{uml[("charge_record", 4, 1, 1)][0]:.1f} ns per buffer at depth 4')
    p(f'  and {uml[("charge_record", 1, 1, 1)][0]:.1f} ns at depth 1 (charge + release of the record).')
    p('')

    def overhead(mode, size):
        return (1 - med[mode, size] / med['disabled', size]) * 100

    def best_overhead(mode, size):
        return (1 - best[mode, size] / best['disabled', size]) * 100

    def native_overhead(mode, size):
        return (hratio[mode, size] / hratio['disabled', size] - 1) * 100

    def native_noise(sizes):
        return max((max(r) - min(r)) * 100 for size in sizes
                   for r in [[ratio for _, ratio in heap['disabled', size]]])

    def e2e_noise(sizes):
        return max((max(rates['disabled', size]) - min(rates['disabled', size])) /
                   med['disabled', size] * 100 for size in sizes)

    big_sizes = SIZES[2:]
    p('Targets, native kernel path (UML, above): overhead over disabled, medians')
    n4 = native_overhead('depth4', 4096)
    p(f'  depth-4 overhead at 4 KiB <= {TARGET_4K}%: {n4:.2f}%  '
      f'{verdict(n4 <= TARGET_4K, native_noise([4096]), TARGET_4K)}')
    if share:
        p(f'  depth-4 overhead at 4 KiB <= {TARGET_4K}%, the controller\'s own cycles (profile):'
          f' {share["depth4"]:.2f}%  {verdict(share["depth4"] <= TARGET_4K)}')
    nbig = max(native_overhead('depth4', s) for s, _ in SIZES[2:])
    p(f'  depth-4 overhead from 1 MiB up <= {TARGET_BIG}%: worst {nbig:.2f}%  '
      f'{verdict(nbig <= TARGET_BIG, native_noise([s for s, _ in big_sizes]), TARGET_BIG)}')
    if share:
        p(f'  depth-4 overhead from 1 MiB up <= {TARGET_BIG}%, the controller\'s own cycles at 1 MiB')
        p(f'  (profile; the same per buffer at 16 MiB, a smaller share): '
          f'{share["depth4-1M"]:.2f}%  {verdict(share["depth4-1M"] <= TARGET_BIG)}')
    cost4 = (hratio['depth4', 4096] - hratio['disabled', 4096]) * hfloor[4096]
    p(f'  depth-4 cost per buffer at 4 KiB: {cost4:.1f} ns over disabled; the core alone')
    p(f'  charges and releases a depth-4 record in {uml[("charge_record", 4, 1, 1)][0]:.1f} ns (above)')
    spread = [max(r) - min(r) for size, _ in big_sizes
              for r in [[ratio for _, ratio in heap['disabled', size]]]]
    note = ('Noise from 1 MiB up: the disabled mode\'s boots alone spread ' + ' and '.join(
        f'{x * 100:.2f}% at {label}' for x, (_, label) in zip(spread, big_sizes)) +
        '. The 4 KiB cost per buffer, flat in size, would be ' + ' and '.join(
        f'{cost4 / hfloor[size] * 100:.3f}% at {label}' for size, label in big_sizes) + '.')
    # Wrap between words, never inside a size such as "1 MiB".
    note = note.replace(' MiB', '_MiB')
    p(textwrap.fill(note, width=80, initial_indent='  ',
                    subsequent_indent='  ').replace('_MiB', ' MiB'))
    p('')
    p('Targets, end to end under QEMU TCG (medians; best runs in brackets)')
    o4, b4 = overhead('depth4', 4096), best_overhead('depth4', 4096)
    n = e2e_noise([4096])
    p(f'  depth-4 overhead at 4 KiB <= {TARGET_4K}%: {o4:.2f}% [{b4:.2f}%]  '
      f'{verdicts(o4 <= TARGET_4K, b4 <= TARGET_4K, n, TARGET_4K)}')
    big = max(overhead('depth4', s) for s, _ in big_sizes)
    bbig = max(best_overhead('depth4', s) for s, _ in big_sizes)
    n = e2e_noise([s for s, _ in big_sizes])
    p(f'  depth-4 overhead from 1 MiB up <= {TARGET_BIG}%: worst {big:.2f}% [{bbig:.2f}%]  '
      f'{verdicts(big <= TARGET_BIG, bbig <= TARGET_BIG, n, TARGET_BIG)}')
    worst = max(ONEHOP, key=lambda mode: hop[mode][4096])
    n = e2e_noise([4096])
    p(f'  one hop through charge_fd at 4 KiB <= {1 + TARGET_HOP / 100:.2f} x a direct allocation: worst')
    p(f'  {worst} x{hop[worst][4096]:.4f}  '
      f'{verdict((hop[worst][4096] - 1) * 100 <= TARGET_HOP, n, TARGET_HOP)}')
    d, f = dev_ratio[1024], dev_fastest[1024]
    p(f'  core at 1024 devices within {TARGET_DEVICES}% of 1 device: x{d:.3f} [x{f:.3f}]  '
      f'{verdict(abs(d - 1) * 100 <= TARGET_DEVICES)} [{verdict(abs(f - 1) * 100 <= TARGET_DEVICES)}]')
    p('  per-buffer cost flat in size: see the cost per buffer above')
    p('')
    p('Targets, by instructions (exact; see PERFORMANCE.rst for what they leave out)')
    icount_targets(p, counts or ({}, {}), core)

    write('\n'.join(out) + '\n', 'bench.txt')


if __name__ == '__main__':
    main()
