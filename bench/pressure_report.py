# SPDX-License-Identifier: GPL-2.0
"""The "latency under memory pressure" part of docs/benchmarks.md.

bench/report.py calls this for each run: the guest printed the JSON of
bench/cmamem_bench_pressure.c between CMAMEM-BENCH-PRESSURE-BEGIN and
-END (bench/guest-pressure.sh). From the raw samples it computes p50, p99
and the maximum of each pool kind and size, idle and busy, and from those
which pool kind starts a pipeline fastest in the worst case.
"""

import json
import math

# Why each pool kind behaves as it does under pressure, read from the
# kernel's mm/cma.c and mm/page_alloc.c (Linux 6.1 and 6.12). The numbers
# are the measured ones; these words hold whichever way they go.
NOTES = (
    "The page allocator lends free CMA pages to movable allocations (page "
    "cache, anonymous memory) once CMA holds more than half of the free "
    "memory, so on a busy board the CMA areas fill with them: the "
    "`CmaFree` column shows how little was free before each busy "
    "allocation. `cma_alloc()` must then empty the range it picks: "
    "`alloc_contig_range()` isolates its pageblocks, drops the clean page "
    "cache in it and migrates everything else (anonymous pages, dirty "
    "cache) elsewhere, which needs free memory outside the range, which "
    "may need reclaim first; a page that is briefly locked or pinned makes "
    "the range fail with `-EBUSY` and `cma_alloc()` tries the next one. "
    "That work grows with the block and with how full memory is, and it "
    "is where the tail comes from. The default CMA pool, a device-tree "
    "CMA pool and the dma-buf CMA heap all go through it (the heap and "
    "the default pool share one area). A carveout (`no-map`) is never "
    "lent to the page allocator: the allocation finds a free range in the "
    "device's coherent pool (a bitmap, `dma_alloc_from_dev_coherent()`) "
    "and zeroes it, and nothing has to move, so its latency does not "
    "depend on what the rest of the system does; the price is that its "
    "memory is lost to everything else even while no block uses it."
)

CONDITIONS = [("idle", "idle (CMA empty)"),
              ("busy", "busy (CMA full of movable pages)")]


def parse(path):
    """(the JSON, the end line's status, stderr lines, kernel log lines)
    of the guest's pressure run, or None when the guest did not run it."""
    lines, messages, status, inside = [], [], None, False
    # None: a guest from before the kernel's messages were collected.
    kernel, kernel_lines = [], None
    with open(path, errors="replace") as log:
        for line in log:
            line = line.rstrip("\n")
            if line == "CMAMEM-BENCH-PRESSURE-BEGIN":
                inside = True
            elif line.startswith("CMAMEM-BENCH-PRESSURE-END"):
                inside = False
                status = line.partition("status=")[2].split()[0]
            elif line.startswith("CMAMEM-BENCH-PRESSURE-STDERR: "):
                messages.append(line[len("CMAMEM-BENCH-PRESSURE-STDERR: "):])
            elif line.startswith("CMAMEM-BENCH-PRESSURE-KERNEL-LINES: "):
                kernel_lines = int(line.rpartition(" ")[2])
            elif line.startswith("CMAMEM-BENCH-PRESSURE-KERNEL: "):
                kernel.append(line[len("CMAMEM-BENCH-PRESSURE-KERNEL: "):])
            elif inside:
                lines.append(line)
    if status is None:
        return None
    try:
        results = json.loads("\n".join(lines))
    except ValueError as error:
        messages.append(f"its JSON does not parse: {error}")
        results = None
    return results, status, messages, kernel if kernel_lines is not None else None


def kernel_summary(kernel):
    """What the kernel said about failed allocations during the run."""
    if kernel is None:
        return ""
    if not kernel:
        return "The kernel logged nothing during the run.\n"
    failures = [line for line in kernel
                if "failure" in line or "failed" in line or "Out of memory" in line]
    text = (f"The kernel logged {len(kernel)} lines during the run, "
            f"{len(failures)} of them about failed allocations")
    if failures:
        text += " (the first: `" + failures[0].strip().replace("`", "'") + "`)"
    return text + ".\n"


def percentile(values, fraction):
    """Nearest rank: the smallest sample with at least that fraction of
    the samples at or below it (p99 of 100 samples is the 99th)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def size_text(size):
    return f"{size >> 20} MiB" if size % (1 << 20) == 0 else f"{size >> 10} KiB"


def milliseconds(nanoseconds):
    value = nanoseconds / 1e6
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def stats(cell):
    samples = cell["nanoseconds"]
    if not samples:
        return None
    return {"p50": percentile(samples, 0.5), "p99": percentile(samples, 0.99),
            "max": max(samples), "count": len(samples),
            "first_is_max": samples[0] == max(samples) and len(samples) > 1}


def cells_of(results, condition):
    return {(cell["allocator"], cell["size"]): cell
            for cell in results["conditions"].get(condition, [])}


def run_section(results):
    """The table and the computed conclusions of one run."""
    allocators = results["allocators"]
    sizes = sorted({cell["size"] for cell in results["conditions"]["idle"]})
    meminfo = results["meminfo"]
    cma_total = meminfo["idle"]["CmaTotal"] // 1024
    text = ""
    filled = meminfo.get("filled")
    if filled:
        text += (f"Memory before filling: `CmaFree` {meminfo['idle']['CmaFree'] // 1024} "
                 f"of {cma_total} MiB of CMA, `MemFree` {meminfo['idle']['MemFree'] // 1024} MiB. "
                 f"After writing the anonymous memory and reading the file: "
                 f"`CmaFree` **{filled['CmaFree'] // 1024} MiB**, `MemFree` "
                 f"{filled['MemFree'] // 1024} MiB, page cache (`Cached`) "
                 f"{filled['Cached'] // 1024} MiB, anonymous (`AnonPages`) "
                 f"{filled['AnonPages'] // 1024} MiB.\n\n")
    else:
        text += "The busy condition did not run (no file to fill memory from).\n\n"
    text += ("| pool kind | size | idle p50 | idle p99 | idle max | busy p50 | "
             "busy p99 | busy max | busy `CmaFree` before (median, MiB) | failed |\n"
             "|---|---|---|---|---|---|---|---|---|---|\n")
    idle, busy = cells_of(results, "idle"), cells_of(results, "busy")
    worst = {}
    for size in sizes:
        for allocator in allocators:
            key = (allocator["key"], size)
            row = f"| {allocator['kind']} (`{allocator['key']}`) | {size_text(size)} |"
            failed = []
            for condition, cells in (("idle", idle), ("busy", busy)):
                cell = cells.get(key)
                summary = stats(cell) if cell else None
                if summary:
                    row += "".join(f" {milliseconds(summary[k])} |"
                                   for k in ("p50", "p99"))
                    first = " ¹" if summary["first_is_max"] else ""
                    row += f" {milliseconds(summary['max'])}{first} |"
                else:
                    row += " – | – | – |"
                if cell and cell["failures"]:
                    failed.append(f"{condition}: {cell['failures']} ({cell['error']})")
                if condition == "busy" and summary:
                    worst[key] = summary
            cell = busy.get(key)
            free = (f"{percentile(cell['cma_free_kib'], 0.5) / 1024:.0f}"
                    if cell and cell["cma_free_kib"] else "–")
            row += f" {free} | {'; '.join(failed) or 'none'} |\n"
            text += row
    text += ("\nTimes in milliseconds, the allocation alone (the ALLOC ioctl). "
             "¹ The maximum is the first allocation of that kind and size in "
             "the condition (idle: that size's first use of the pool in the "
             "boot; busy: its first allocation after the fill).\n")
    text += conclusions(allocators, sizes, worst)
    return text


def conclusions(allocators, sizes, worst):
    """Which kind had the shortest worst case, and each CMA pool against
    the heap, from the busy samples."""
    if not worst:
        return ""
    kinds = {allocator["key"]: allocator["kind"] for allocator in allocators}
    heap = next((a["key"] for a in allocators if "heap" in a["kind"]), None)
    lines = []
    for size in sizes:
        measured = {key: summary for (key, at), summary in worst.items() if at == size}
        if not measured:
            continue
        best = min(measured, key=lambda key: measured[key]["max"])
        line = (f"- {size_text(size)}, busy: the shortest worst case is the "
                f"{kinds[best]}'s ({milliseconds(measured[best]['max'])} ms)")
        if heap in measured:
            against = []
            for key in measured:
                if key == heap:
                    continue
                against.append(f"{kinds[key]} p50 {measured[key]['p50'] / measured[heap]['p50']:.2f}×, "
                               f"p99 {measured[key]['p99'] / measured[heap]['p99']:.2f}×")
            line += "; against the heap: " + "; ".join(against)
        lines.append(line + ".")
    return "\n" + "\n".join(lines) + "\n" if lines else ""


def section(runs):
    """The section for every run that has a pressure run, or ""."""
    parts = []
    for run in runs:
        pressure = run.get("pressure")
        if not pressure:
            continue
        results = pressure[0]
        parts.append(f"### Run `{run['name']}` (Linux "
                     f"{run['info'].get('kernel', ['?'])[0].split()[0]})\n\n"
                     + run_section(results) + "\n"
                     + kernel_summary(pressure[3]))
    if not parts:
        return ""
    first = next(run for run in runs if run.get("pressure"))
    trials = first["pressure"][0]["trials"]
    facts = first["facts"]
    file_mib = facts.get("pressure_file_mib", "?")
    memory_kib = first["pressure"][0]["meminfo"]["idle"]["MemTotal"]
    larger = (", larger than memory," if file_mib.isdigit()
              and int(file_mib) * 1024 > memory_kib else "")
    text = ("## Allocation latency under memory pressure\n\n"
            "How long an allocation of a camera pipeline's size takes when "
            "the pipeline starts on a busy board, per pool kind, from "
            "`bench/cmamem_bench_pressure` (see the note below; arguments "
            f"`{facts.get('pressure_arguments', '?')}`). *idle*: right "
            "after boot. *busy*: after the anonymous memory (`--anon`) was "
            f"written and a {file_mib} MiB file{larger} was read from ext2 "
            "on a virtio disk, and "
            "with the next block's size of that file read before each "
            "allocation from CMA, so that every sample meets CMA areas full "
            f"of movable pages. {trials} allocations per pool kind, "
            "size and condition, the kinds taking turns; p99 is the nearest "
            "rank (the 99th of 100 samples; with fewer than 100 it would "
            "just be the maximum). cmamem pools allocate coherent blocks, "
            "the one mode every pool kind offers; on this non-coherent "
            "board those are also cleaned from the CPU caches after they "
            "are zeroed, which the heap skips, so compare the heap by how "
            "much each kind grows from idle to busy as much as by the "
            "times themselves.\n\n")
    return text + "\n".join(parts) + "\n- **Why the pool kinds differ**: " + NOTES + "\n"
