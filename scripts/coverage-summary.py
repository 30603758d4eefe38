#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Text reports of an lcov tracefile of the module's sources.

Usage: coverage-summary.py TRACEFILE SUMMARY UNREACHED LABEL

Prints one line, the totals (what `make check` shows); writes SUMMARY (the
totals, a table per file and one per function) and UNREACHED (every line and
branch the tests did not reach, with its source text). The figures are lcov's
own: a line counts when its DA record has a non-zero count, a branch when its
BRDA record was taken at least once ('-', a branch whose block never ran,
counts as not taken); lines and branches under LCOV_EXCL markers were dropped
by geninfo already. A function's lines and branches are those from its first
line up to the next function of the same file: the tracefile records where a
function starts, not where it ends.
"""
import os
import sys
from collections import defaultdict


class Counts:
    def __init__(self):
        self.lines = self.lines_hit = 0
        self.branches = self.branches_hit = 0
        self.functions = self.functions_hit = 0

    def add(self, other):
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def percent(hit, total):
    return '%5.1f%%' % (100.0 * hit / total) if total else '    - '


def read_tracefile(path):
    """{source file: {'lines': {n: count}, 'branches': {n: [taken...]},
    'functions': {name: [line, count]}}}, records of a file summed."""
    files = {}
    current = None
    with open(path) as tracefile:
        for record in tracefile:
            record = record.rstrip('\n')
            key, _, value = record.partition(':')
            if key == 'SF':
                current = files.setdefault(value, {
                    'lines': defaultdict(int),
                    'branches': defaultdict(dict),
                    'functions': {}})
            elif key == 'DA':
                line, count = value.split(',')[:2]
                current['lines'][int(line)] += int(count)
            elif key == 'BRDA':
                line, block, branch, taken = value.split(',')
                slot = current['branches'][int(line)]
                taken = 0 if taken == '-' else int(taken)
                slot[(block, branch)] = slot.get((block, branch), 0) + taken
            elif key == 'FN':
                line, name = value.split(',', 1)
                current['functions'].setdefault(name, [int(line), 0])
            elif key == 'FNDA':
                count, name = value.split(',', 1)
                current['functions'].setdefault(name, [0, 0])[1] += int(count)
    return files


def file_counts(data):
    counts = Counts()
    counts.lines = len(data['lines'])
    counts.lines_hit = sum(1 for c in data['lines'].values() if c)
    for slot in data['branches'].values():
        counts.branches += len(slot)
        counts.branches_hit += sum(1 for c in slot.values() if c)
    counts.functions = len(data['functions'])
    counts.functions_hit = sum(1 for _, c in data['functions'].values() if c)
    return counts


def function_counts(data):
    """[(name, start line, calls, Counts)], in source order."""
    starts = sorted((line, name) for name, (line, _)
                    in data['functions'].items())
    result = []
    for index, (start, name) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else 1 << 30
        counts = Counts()
        for line, count in data['lines'].items():
            if start <= line < end:
                counts.lines += 1
                counts.lines_hit += bool(count)
        for line, slot in data['branches'].items():
            if start <= line < end:
                counts.branches += len(slot)
                counts.branches_hit += sum(1 for c in slot.values() if c)
        result.append((name, start, data['functions'][name][1], counts))
    return result


def fraction(hit, total):
    return '%s %5d/%d' % (percent(hit, total), hit, total)


def main():
    tracefile, summary_path, unreached_path, label = sys.argv[1:5]
    files = read_tracefile(tracefile)
    total = Counts()
    per_file = {}
    for path in sorted(files):
        per_file[path] = file_counts(files[path])
        total.add(per_file[path])
    headline = ('coverage of src/ (%s): lines %s (%d of %d), branches %s '
                '(%d of %d), functions %s (%d of %d)' % (
                    label,
                    percent(total.lines_hit, total.lines).strip(),
                    total.lines_hit, total.lines,
                    percent(total.branches_hit, total.branches).strip(),
                    total.branches_hit, total.branches,
                    percent(total.functions_hit, total.functions).strip(),
                    total.functions_hit, total.functions))

    with open(summary_path, 'w') as summary:
        summary.write(headline + '\n\n')
        row = '%-12s %-19s %-19s %s\n'
        summary.write(row % ('file', 'lines', 'branches', 'functions'))
        for path, counts in per_file.items():
            summary.write(row % (
                os.path.basename(path),
                fraction(counts.lines_hit, counts.lines),
                fraction(counts.branches_hit, counts.branches),
                fraction(counts.functions_hit, counts.functions)))
        summary.write(row % ('total', fraction(total.lines_hit, total.lines),
                             fraction(total.branches_hit, total.branches),
                             fraction(total.functions_hit, total.functions)))
        summary.write('\n')
        row = '%-44s %-17s %8s %-19s %s\n'
        summary.write(row % ('function', 'where', 'calls', 'lines',
                             'branches'))
        for path in per_file:
            for name, start, calls, counts in function_counts(files[path]):
                summary.write(row % (
                    name, '%s:%d' % (os.path.basename(path), start), calls,
                    fraction(counts.lines_hit, counts.lines),
                    fraction(counts.branches_hit, counts.branches)))

    with open(unreached_path, 'w') as unreached:
        for path, data in files.items():
            try:
                with open(path) as source_file:
                    source = source_file.read().split('\n')
            except OSError:
                source = []
            name = os.path.basename(path)

            def text(line):
                return source[line - 1].strip() if line <= len(source) else ''
            for line in sorted(set(data['lines']) | set(data['branches'])):
                if line in data['lines'] and not data['lines'][line]:
                    unreached.write('%s:%d: line not run: %s\n' %
                                    (name, line, text(line)))
                    continue
                slot = data['branches'].get(line, {})
                missed = [i for i, c in enumerate(slot.values()) if not c]
                if missed:
                    unreached.write('%s:%d: branch %s of %d not taken: %s\n' %
                                    (name, line,
                                     ','.join(str(i) for i in missed),
                                     len(slot), text(line)))
    print(headline)


if __name__ == '__main__':
    main()
