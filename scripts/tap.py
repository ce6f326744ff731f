#!/usr/bin/env python3
"""Turn test output into counts.

  tap.py split-guest RESULTS LISTFILE OUTDIR
      Split the guest's results port output ("### suite NAME" ... "### end NAME
      rc=N") into OUTDIR/guest-NAME.tap, one per suite of LISTFILE. A suite
      that exited non-zero without a failing case, did not finish, or never
      ran gets a failing case of its own.
  tap.py summary DIR...
      Count the test cases of every DIR/*.tap (TAP or KTAP: leaves only, so
      a suite's own result line is not counted twice), print a line per file,
      "N skipped" if any were, and last "N passed, N failed", the line CI
      reads. Exit 1 on any failure or if nothing ran. Only "ok ... # SKIP"
      is a skip: "not ok" is a failure whatever its message says, and a file
      with neither a result nor a plan is a failure of its own.
"""
import os
import re
import sys

RESULT = re.compile(r'^(\s*)(ok|not ok)\b\s*\d*\s*-?\s*(.*)$')
PLAN = re.compile(r'^1\.\.(\d+)')
# The directive of an "ok" line: "# SKIP" after its description.
SKIP = re.compile(r'#\s*SKIP\b', re.IGNORECASE)


def split_guest(results, listfile, outdir):
    with open(listfile) as f:
        expected = [line.split()[0] for line in f
                    if line.strip() and not line.startswith('#')]
    suites, current, ended = {}, None, {}
    with open(results, errors='replace') as f:
        for raw in f:
            line = raw.rstrip('\r\n')
            m = re.match(r'^### suite (\S+)', line)
            if m:
                current = m.group(1)
                suites[current] = []
                continue
            m = re.match(r'^### end (\S+) rc=(\d+)', line)
            if m:
                ended[m.group(1)] = int(m.group(2))
                current = None
                continue
            if current:
                suites[current].append(line)
    os.makedirs(outdir, exist_ok=True)
    for name in expected:
        lines = suites.get(name)
        if lines is None:
            lines = ['not ok 1 %s never ran (guest died first?)' % name]
        elif name not in ended:
            lines.append('not ok %s did not finish (guest crashed or hung)' % name)
        elif ended[name] != 0 and not any(
                RESULT.match(l) and RESULT.match(l).group(2) == 'not ok'
                for l in lines):
            lines.append('not ok %s exited with status %d' % (name, ended[name]))
        with open(os.path.join(outdir, 'guest-%s.tap' % name), 'w') as f:
            f.write('\n'.join(lines) + '\n')


def count(path):
    passed = failed = skipped = 0
    results = []
    plan = None
    with open(path, errors='replace') as f:
        for raw in f:
            line = raw.rstrip('\r\n')
            m = RESULT.match(line)
            if m:
                results.append((len(m.group(1)), m.group(2), m.group(3)))
                continue
            m = PLAN.match(line)
            if m and plan is None:
                plan = int(m.group(1))
    top = 0
    for i, (depth, status, rest) in enumerate(results):
        if depth == 0:
            top += 1
        if i > 0 and results[i - 1][0] > depth:
            continue  # a parent: its children were counted
        if status == 'not ok':
            failed += 1  # "not ok ... # SKIP" too: a skip must not hide it
        elif SKIP.search(rest):
            skipped += 1
        else:
            passed += 1
    if plan is not None and top < plan:
        failed += plan - top  # planned cases that never reported
    if plan is None and not results:
        failed += 1  # an empty or garbled file: nothing ran
    return passed, failed, skipped


def is_empty(path):
    with open(path, errors='replace') as f:
        return not any(RESULT.match(l) or PLAN.match(l) for l in f)


def summary(directories):
    total = [0, 0, 0]
    files = [os.path.join(d, name) for d in directories if os.path.isdir(d)
             for name in sorted(os.listdir(d)) if name.endswith('.tap')]
    for path in files:
        name = os.path.basename(path)
        p, f, s = count(path)
        total = [total[0] + p, total[1] + f, total[2] + s]
        print('  %-34s %4d passed %4d failed %4d skipped' % (name[:-4], p, f, s))
        if (p, f, s) == (0, 1, 0) and is_empty(path):
            print('    not ok %s: no results and no plan' % name[:-4])
    if total[2]:
        print('%d skipped' % total[2])
    print('%d passed, %d failed' % (total[0], total[1]))
    return 0 if total[1] == 0 and total[0] > 0 else 1


def main(argv):
    if len(argv) == 5 and argv[1] == 'split-guest':
        split_guest(argv[2], argv[3], argv[4])
        return 0
    if len(argv) >= 3 and argv[1] == 'summary':
        return summary(argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
