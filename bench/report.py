#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write docs/benchmarks.md and the latency plots from a benchmark run.

scripts/bench.sh runs this on the host after the guest ran "cmamem bench",
once per CPU model (one directory each: guest.log, host.txt, load.txt).
Each guest printed (see bench/guest-init.sh) INFO lines, among them the CPU
and the features its kernel detected, the Markdown tables cmamem bench
wrote (a board prints the same), and every statistic as JSON. From the
JSON this script decides the project's targets (issue 14) on every model
and draws each model's plot; it adds the facts of the run and, for each
target, what makes it met or missed.
"""

import argparse
import json
import os
import subprocess
import sys

import pressure_report

BACKENDS = ["coherent", "wc", "cached", "dma-heap"]

# The CPU models scripts/bench.sh boots, and the real cores each stands
# for. What the guest's CPU actually had comes from the guest (its
# /proc/cpuinfo and the features its kernel detected at boot), never from
# here.
MODELS = {
    "a57": "ARMv8.0 without hardware dirty-bit management: boards with "
           "Cortex-A53, A57 or A72 cores",
    "hafdbs": "ARMv8.1+ with hardware Access flag and dirty-bit management "
              "(FEAT_HAFDBS): boards with Cortex-A55, A76, A78, X1 or "
              "later cores",
}
HAFDBS = "Hardware dirty bit management"


def has_hafdbs(detected):
    """Whether the boot log's features name it (6.12 adds " on CPU0-1")."""
    return any(feature == HAFDBS or feature.startswith(HAFDBS + " on CPU")
               for feature in detected)
MODES = ["coherent", "wc", "cached"]

# Why each target comes out the way it does: the mechanism, read from the
# driver (src/), from the kernel's dma-heap, dma-direct and arm64 code, and
# seen in the fault counts of table 3. The verdicts themselves are the
# measured ones; these words hold whichever way they go.
TARGET_NOTES = {
    "first_touch": (
        "cmamem fills every page-table entry inside `mmap()` "
        "(`vm_insert_pages()`, `remap_pfn_range()`); the CMA heap maps "
        "nothing and takes one fault per page. The entries are filled "
        "*clean*: on a core with hardware dirty-bit management the first "
        "write sets the dirty bit itself and takes no fault (table 3's "
        "fault column on that model), while on an ARMv8.0 core every first "
        "write still faults, and arm64 finishes each such fault with a TLB "
        "invalidation broadcast to every CPU (`ptep_set_access_flags()`), "
        "which the heap's fault into an empty entry does not need; "
        "multi-threaded TCG makes that broadcast stop every virtual CPU. "
        "That is why the target is set for the HAFDBS model only. For "
        "reads (a buffer a device filled) cmamem takes no fault on either "
        "model."
    ),
    "map_touch": (
        "Allocation costs both sides about the same from 64 KiB up (both "
        "take the pages from the same CMA area with `cma_alloc()` and zero "
        "them); the difference is in mapping and touching, where the note "
        "above applies: on the HAFDBS model the up-front mapping saves a "
        "fault per page, on the ARMv8.0 model it is work done twice. At one "
        "page cmamem is well ahead on both: dma-direct serves a single page "
        "from the page allocator instead of CMA, and a dma-buf's inode, "
        "dentry and file cost more than a cmamem handle."
    ),
    "first_touch_huge": (
        "From Linux 6.12 cmamem maps `coherent` and `wc` blocks at first "
        "access instead of in `mmap()`, with one PMD entry per 2 MiB where "
        "the block, its alignment and the address allow (a "
        "`get_unmapped_area` that aligns makes the address allow it), so "
        "the first write of 64 MiB takes 32 faults instead of 16 384, and "
        "each fills a dirty entry, on either CPU model; the heap still "
        "takes one fault per page. Cached blocks keep page entries, which "
        "`get_user_pages()` needs. A PMD entry needs the block's physical "
        "address 2 MiB-aligned where the entry starts: CMA aligns a large "
        "allocation to 1 MiB only (`CONFIG_CMA_ALIGNMENT`), so the bench "
        "asks ALLOC for a 2 MiB alignment here, as a program that wants "
        "a block mapped huge throughout does. Without it a 64 MiB block "
        "lies 1 MiB off a boundary about every other time, and then its "
        "first and last MiB take a fault per page: 543 faults instead of "
        "32."
    ),
    "map_touch_fault": (
        "On an ARMv8.0 core the up-front mapping saves nothing: every first "
        "write to one of cmamem's clean entries takes a permission fault "
        "ending in a broadcast TLB invalidation, where the heap's one "
        "fault per page fills an empty entry. So the issue allows cmamem "
        "that fault cost and no more, measured in the same boot (table 3: "
        "the first write of a fresh 64 MiB mapping less the first read of "
        "another, which takes no fault, per fault taken; the figures are "
        "under the targets table). At each size the limit is 1 + pages × "
        "that cost ÷ the heap's median time; cmamem meets it when filling "
        "the entries in `mmap()` costs no more than the heap's own faults. "
        "On Linux 6.12 table 3's `coherent` and `wc` blocks are mapped with "
        "dirty PMD entries and take no such fault, so their cost cannot be "
        "measured there; their smaller mappings, which hold no PMD entry, "
        "get clean page entries in `mmap()` as the cached ones do, and the "
        "cached row's cost, the same permission fault, stands in."
    ),
    "alloc_free": (
        "Both allocate from the same CMA area with `cma_alloc()`. With "
        "`init_on_alloc=1` (the boots above, as on Debian) the page "
        "allocator has zeroed the pages already; the heap zeroes them a "
        "second time, and so would `dma_alloc_pages()`, so cmamem takes "
        "every mode's pages from `dma_alloc_attrs(DMA_ATTR_NO_KERNEL_MAPPING)`, "
        "whose one pass over the caches (`arch_dma_prep_coherent()`, clean "
        "and invalidate) is all that is left to do: no second zeroing, no "
        "kernel mapping, no `vmap()` and no TLB flush when the block goes "
        "(`cmamem_clear_unmapped()`, `cmamem_alloc_zeroed_pages()` in "
        "src/block.c). Without `init_on_alloc` (the last section) both "
        "zero once; `coherent` and `wc` blocks of this non-coherent device "
        "also have their caches cleaned and invalidated by dma-direct "
        "before the zeroing, and cleaned and invalidated again after it "
        "(a streaming mapping made and undone), which the cached mode and "
        "the heap skip: hence their looser limit."
    ),
    "copy": (
        "A cached block is ordinary cacheable memory mapped with 4 KiB "
        "page-table entries; the malloc'd reference (page-aligned, the "
        "same size, copied in and out the same way in the same trials) is "
        "ordinary memory too, but the bench kernels have transparent huge "
        "pages always, as Debian's kernels do, so 16 MiB of it is mostly "
        "2 MiB pages: where the emulated CPU pays for page walks, the "
        "reference is faster for that alone, and table 4's dma-heap row, "
        "a mapping of 4 KiB pages too, shows how much of a ratio that "
        "is. Cached blocks keep page entries because "
        "`get_user_pages()` must be able to pin them. TCG ignores memory "
        "attributes, which is why the `coherent` and `wc` rows match the "
        "cached one; on hardware, CPU reads from those mappings are "
        "uncached and far slower."
    ),
    "attach": (
        "Names live in a resizable hash table per pool (`rhashtable`), so "
        "finding a name does not depend on how many blocks are live. What "
        "grows is the memory a lookup lands in: with 10 000 blocks the "
        "buckets and block structs spread over megabytes, and every first "
        "touch of a page costs the emulator a software-TLB refill (on "
        "hardware: cache and TLB misses). The live count goes up, down and "
        "up again, so drift in the host's load cannot pose as growth; two "
        "boots (one per model) show whether it is stable from run to run."
    ),
    "memory": (
        "Where the bytes go, from the caches that grew (table 7): the "
        "block (`struct cmamem_block`, 176 bytes on arm64) and the handle "
        "(`struct cmamem_handle`, 32 bytes) come from slab caches of their "
        "own (`cmamem_block`, `cmamem_handle`), not kmalloc(), whose "
        "smallest object on arm64 Linux 6.1 is 128 bytes "
        "(ARCH_KMALLOC_MINALIGN is ARCH_DMA_MINALIGN until Linux 6.5); "
        "the block keeps one allocation address and the window offset and "
        "derives the rest, and a one-page cached block keeps its page "
        "pointer inside the block instead of a separate array. `coherent` "
        "and `wc` blocks have no kernel mapping "
        "(`DMA_ATTR_NO_KERNEL_MAPPING`), which spares the `vm_struct` and "
        "`vmap_area` (about 190 bytes) of dma-direct's uncached `vmap()`. "
        "The per-file maple tree and xarray and the name table add the "
        "remainder. A dma-buf costs several times as much as a cmamem "
        "block (its inode, dentry and file above all)."
    ),
}

VERDICT_WORDS = {True: "met", False: "**MISSED**", None: "not measured"}


def parse_guest_log(path):
    """The sections of what the guest printed between the markers."""
    info, tables, json_lines, reports = {}, [], [], []
    status = None
    section = None
    with open(path, errors="replace") as log:
        for line in log:
            line = line.rstrip("\n")
            if line in ("CMAMEM-BENCH-TABLES-BEGIN", "CMAMEM-BENCH-JSON-BEGIN",
                        "CMAMEM-BENCH-SMOKE-BEGIN"):
                section = line.split("-")[2].lower()
            elif line in ("CMAMEM-BENCH-TABLES-END", "CMAMEM-BENCH-JSON-END"):
                section = None
            elif line.startswith("CMAMEM-BENCH-SMOKE-END"):
                section = None
                if line.partition("status=")[2].split()[0] != "0":
                    reports.append("the smoke test failed: " + line)
            elif section == "smoke":
                if line.startswith("not ok"):
                    reports.append("smoke test: " + line)
            elif line.startswith("CMAMEM-BENCH-INFO: "):
                key, _, value = line[len("CMAMEM-BENCH-INFO: "):].partition(": ")
                info.setdefault(key, []).append(value)
            elif line.startswith("CMAMEM-BENCH-STDERR: "):
                text = line[len("CMAMEM-BENCH-STDERR: "):]
                if not text.startswith("cmamem bench: measuring"):
                    reports.append("cmamem bench said: " + text)
            elif line.startswith("CMAMEM-BENCH-REPORT: "):
                reports.append(line[len("CMAMEM-BENCH-REPORT: "):])
            elif line.startswith("CMAMEM-BENCH-END"):
                status = line.partition("status=")[2] or "?"
            elif section == "tables":
                tables.append(line)
            elif section == "json":
                json_lines.append(line)
    if status is None:
        sys.exit("report.py: the guest log has no CMAMEM-BENCH-END line")
    try:
        results = json.loads("\n".join(json_lines))
    except ValueError as error:
        sys.exit(f"report.py: the guest's JSON does not parse: {error}")
    return info, "\n".join(tables).strip() + "\n", results, reports, status


def read_facts(path):
    facts = {}
    with open(path) as lines:
        for line in lines:
            key, _, value = line.rstrip("\n").partition(": ")
            facts[key] = value
    return facts


def read_load(path):
    """Load average and other VMs, sampled every 5 s during the run."""
    loads, others = [], []
    if os.path.exists(path):
        with open(path) as lines:
            for line in lines:
                fields = line.split()
                if len(fields) == 2:
                    loads.append(float(fields[0]))
                    others.append(int(fields[1]))
    return loads, others


def size_label(size):
    for shift, unit in ((20, "M"), (10, "K")):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift}{unit}"
    return str(size)


def write_plot_data(results, work):
    """Two data files for latency.gp; returns their paths and the sizes."""
    cells = {}
    for cell in results["cells"]:
        if cell["measurement"] in ("alloc_free", "alloc_map_touch_free"):
            cells[(cell["measurement"], cell["backend"], cell["bytes"])] = cell
    sizes = sorted({int(key[2]) for key in cells})
    paths = {}
    for measurement in ("alloc_free", "alloc_map_touch_free"):
        path = os.path.join(work, f"latency-{measurement}.dat")
        with open(path, "w") as data:
            data.write("# bytes label then median p25 p75 (microseconds) for "
                       + " ".join(BACKENDS) + "\n")
            for size in sizes:
                fields = [str(size), size_label(size)]
                for backend in BACKENDS:
                    cell = cells.get((measurement, backend, size))
                    if cell and "median" in cell:
                        fields += [f"{cell[k] / 1000:.4g}" for k in ("median", "p25", "p75")]
                    else:
                        fields += ["?", "?", "?"]
                data.write(" ".join(fields) + "\n")
        paths[measurement] = path
    return paths, sizes


def plot(gnuplot_script, paths, sizes, subtitle, output):
    xtics = ", ".join(f'\\"{size_label(size)}\\" {size}' for size in sizes)
    variables = (f"alloc_data='{paths['alloc_free']}'; "
                 f"map_data='{paths['alloc_map_touch_free']}'; "
                 f"output='{output}'; subtitle='{subtitle}'; "
                 f"xtics_command=\"set xtics ({xtics})\"")
    subprocess.run(["gnuplot", "-e", variables, gnuplot_script], check=True)


def run_table(info, facts, loads, others, results):
    first = lambda key: info.get(key, ["unknown"])[0]
    cma_areas = ", ".join(info.get("cma_area", [])) or "none"
    heap = results.get("heap_path") or "none"
    detected = info.get("cpu_detected", [])
    cpu = (f"`-cpu {facts.get('qemu_cpu', '?')}`: implementer "
           f"{first('cpuinfo CPU implementer')}, part {first('cpuinfo CPU part')}, "
           f"variant {first('cpuinfo CPU variant')}, revision "
           f"{first('cpuinfo CPU revision')}")
    rows = [
        ("date", facts.get("date", "unknown")),
        ("commit", f"`{facts.get('commit', 'unknown')}` (plus any uncommitted changes)"),
        ("board", f"{facts.get('qemu', 'QEMU')}, machine `virt`, "
                  f"{first('cpus')} virtual CPUs, **TCG software emulation**, "
                  f"{first('memory')} of memory"),
        ("CPU (from the guest)", cpu),
        ("CPU features (guest's /proc/cpuinfo)", f"`{first('cpuinfo Features')}`"),
        ("detected and enabled by the kernel (boot log)",
         ", ".join(detected) if detected else "nothing beyond ARMv8.0"),
        ("hardware dirty-bit management", "**yes**" if has_hafdbs(detected) else "**no**"),
        ("guest kernel", f"{first('kernel')} ({facts.get('target', 'arm64-bench')}, "
                         f"`{facts.get('kernel_build', '?')}`), "
                         f"page size {results.get('page_size')} bytes, "
                         f"PMD size {results.get('huge_alignment', 0) >> 10} KiB "
                         f"(the alignment of cmamem's blocks in tables 3 and 8)"),
        ("kernel command line", f"`{first('cmdline')}`"),
        ("CMA areas", f"{cma_areas} (`reserved` is the default area, sized by "
                      f"`cma={facts.get('cma', '?')}`)"),
        ("compared", f"cmamem pool `{results.get('pool')}` (`{results.get('pool_path')}`) "
                     f"against `{heap}`"),
        ("cmamem bench arguments", f"`{first('arguments') or '(defaults)'}`"),
        ("host", f"{facts.get('host_cpu', 'unknown')}, {facts.get('host_cores', '?')} cores"),
    ]
    if loads:
        shared = sum(1 for count in others if count > 0)
        rows.append(("host load during the run",
                     f"load average {min(loads):.1f} to {max(loads):.1f} "
                     f"(mean {sum(loads) / len(loads):.1f}) on {facts.get('host_cores', '?')} cores; "
                     f"other QEMU virtual machines were running in {shared} of "
                     f"{len(loads)} samples (up to {max(others)} at once): "
                     + ("**the machine was shared**, so absolute times carry "
                        "their load; the interleaved trials keep the ratios fair"
                        if shared else "no other virtual machine was seen")))
    rows.append(("boot time", f"{int(facts.get('seconds', '0')) / 60:.1f} minutes "
                              f"(measuring in the guest: {first('seconds')} s)"))
    lines = ["| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in rows]
    return "\n".join(lines) + "\n"


# --- the targets (issue 14), decided from the JSON of each model's run ---

def ratios(results, name):
    """{bytes or None: median} of the paired ratios called name."""
    return {entry.get("bytes"): entry["median"]
            for entry in results.get("ratios", []) if entry["ratio"] == name}


def cell_median(results, measurement, backend, key=None, value=None):
    for cell in results.get("cells", []):
        if (cell["measurement"] == measurement and cell["backend"] == backend
                and (key is None or cell.get(key) == value) and "median" in cell):
            return cell["median"]
    return None


class Verdict:
    """The worst value of a target over what it covers, and where."""

    def __init__(self, at_most):
        self.at_most = at_most
        self.worst = None
        self.where = ""
        self.missing = []

    def add(self, value, limit, where):
        if value is None:
            self.missing.append(where)
            return
        # How far from the limit, so values with different limits compare.
        margin = value / limit if self.at_most else limit / value
        if self.worst is None or margin > self.worst[0]:
            self.worst = (margin, value, limit)
            self.where = where

    def met(self):
        if self.missing or self.worst is None:
            return None
        return self.worst[0] <= 1.0

    def text(self, unit="×"):
        if self.worst is None:
            return "not measured"
        _, value, limit = self.worst
        relation = "≤" if self.at_most else "≥"
        if unit == "B":
            text = f"{value:.0f} B ({self.where}; limit {relation} {limit:.0f} B)"
        else:
            text = f"{value:.2f}× ({self.where}; limit {relation} {limit:.3g}×)"
        if self.missing:
            text += f"; not measured: {', '.join(self.missing)}"
        return text


def size_text(size):
    for shift, unit in ((20, "MiB"), (10, "KiB")):
        if size >= 1 << shift and size % (1 << shift) == 0:
            return f"{size >> shift} {unit}"
    return f"{size} B"


def sizes_of(results):
    return sorted({int(cell["bytes"]) for cell in results.get("cells", [])
                   if cell["measurement"] == "alloc_free"})


def write_fault_cost(results, mode):
    """Nanoseconds one write fault on a clean entry of a fresh cmamem
    mapping costs, measured in table 3: mmap() and the first write of
    every page take the faults, mmap() and the first read of every page on
    a second mapping take none, and the accesses are the same; their
    difference, divided by the faults the writes took beyond the reads',
    is what one such fault costs. None where the writes took no more
    faults than the reads (a core with hardware dirty-bit management)."""
    write = cell_median(results, "first_touch", mode)
    read = cell_median(results, "first_read", mode)
    write_faults = cell_median(results, "touch_faults", mode)
    read_faults = cell_median(results, "read_faults", mode)
    if None in (write, read, write_faults, read_faults):
        return None
    if write_faults - read_faults < 1:
        return None
    return max(write - read, 0.0) / (write_faults - read_faults)


def clean_entry_fault_cost(results, mode):
    """(nanoseconds, the mode it was measured on) of a write fault on a
    clean page entry for @mode's blocks: its own table 3 row, or where that
    row took none (mapped huge) the cached row's; (None, None) on a core
    with hardware dirty-bit management."""
    for measured_on in (mode, "cached"):
        cost = write_fault_cost(results, measured_on)
        if cost is not None:
            return cost, measured_on
    return None, None


def judge(results):
    """{target key: Verdict} for one run; TARGETS says on which runs each
    is judged."""
    sizes = sizes_of(results)
    page_size = results.get("page_size", 4096)
    verdicts = {}

    first_touch = Verdict(at_most=False)
    first_touch_huge = Verdict(at_most=False)
    for mode in MODES:
        value = ratios(results, f"first_touch dma-heap / {mode}").get(None)
        first_touch.add(value, 5.0, mode)
        if mode != "cached":
            first_touch_huge.add(value, 20.0, mode)
    verdicts["first_touch"] = first_touch
    verdicts["first_touch_huge"] = first_touch_huge

    # On a core without hardware dirty-bit management every first write to
    # cmamem's clean entries faults (TARGET_NOTES["first_touch"]): there
    # cmamem may exceed the heap by that fault cost, measured in the same
    # boot, times the pages touched, and by nothing more.
    map_touch = Verdict(at_most=True)
    map_touch_large = Verdict(at_most=True)
    map_touch_fault = Verdict(at_most=True)
    for mode in MODES:
        measured = ratios(results, f"alloc_map_touch_free {mode} / dma-heap")
        fault_cost, _ = clean_entry_fault_cost(results, mode)
        for size in sizes:
            where = f"{mode} at {size_text(size)}"
            map_touch.add(measured.get(size), 1.0, where)
            if size >= 16 << 20:
                map_touch_large.add(measured.get(size), 0.6, where)
            heap = cell_median(results, "alloc_map_touch_free", "dma-heap",
                               "bytes", size)
            if fault_cost is None or not heap:
                map_touch_fault.add(None, 1.0, where)
                continue
            pages = -(-size // page_size)
            map_touch_fault.add(measured.get(size),
                                1.0 + pages * fault_cost / heap, where)
    verdicts["map_touch"] = map_touch
    verdicts["map_touch_large"] = map_touch_large
    verdicts["map_touch_fault"] = map_touch_fault

    alloc_free = Verdict(at_most=True)
    for mode in MODES:
        measured = ratios(results, f"alloc_free {mode} / dma-heap")
        for size in sizes:
            alloc_free.add(measured.get(size), 1.0 if mode == "cached" else 1.2,
                           f"{mode} at {size_text(size)}")
    verdicts["alloc_free"] = alloc_free

    memory = Verdict(at_most=True)
    for mode in MODES:
        memory.add(cell_median(results, "memory_per_block", mode), 256, mode)
    verdicts["memory"] = memory

    copy = Verdict(at_most=False)
    for direction in ("in", "out"):
        copy.add(ratios(results, f"copy_{direction} cached / malloc").get(None),
                 0.95, f"copy {direction}")
    verdicts["copy"] = copy

    attach = Verdict(at_most=True)
    counts = sorted({int(cell["live_blocks"]) for cell in results.get("cells", [])
                     if cell["measurement"] == "attach"})
    if counts:
        backend = next(cell["backend"] for cell in results["cells"]
                       if cell["measurement"] == "attach")
        few = cell_median(results, "attach", backend, "live_blocks", counts[0])
        many = cell_median(results, "attach", backend, "live_blocks", counts[-1])
        attach.add(many / few if few and many else None, 1.2,
                   f"{counts[-1]} ÷ {counts[0]} live blocks")
    verdicts["attach"] = attach
    return verdicts


def kernel_version(run):
    """(major, minor) of the kernel the run booted, from the guest."""
    release = run["info"].get("kernel", ["0.0"])[0].split()[0]
    numbers = release.split("-")[0].split(".")
    try:
        return int(numbers[0]), int(numbers[1])
    except (IndexError, ValueError):
        sys.exit(f"report.py: {run['name']}: cannot read the kernel version "
                 f"from '{release}'")


def on_models(*models):
    return lambda run: run["model"] in models


def huge_mappings(run):
    """Linux 6.12 and later: cmamem maps coherent and wc blocks with PMD
    entries (docs/design.md, Allocation); 6.1 has page entries only."""
    return kernel_version(run) >= (6, 12)


def every_run(run):
    return True


# key, description, on which runs it is judged.
TARGETS = [
    ("first_touch", "mmap + first write of every page of the first-touch "
     "size ≥ 5× faster than dma-heap, every mode", on_models("hafdbs")),
    ("first_touch_huge", "on Linux 6.12 (huge mappings), mmap + first write "
     "≥ 20× faster than dma-heap, coherent and wc", huge_mappings),
    ("map_touch", "allocate + mmap + touch + munmap + free ≤ 1.0× dma-heap "
     "at every size, every mode", on_models("hafdbs")),
    ("map_touch_large", "allocate + mmap + touch + munmap + free ≤ 0.6× "
     "dma-heap from 16 MiB, every mode", on_models("hafdbs")),
    ("map_touch_fault", "allocate + mmap + touch + munmap + free ≤ dma-heap "
     "plus the write faults on clean entries (their cost measured in table "
     "3 of the same boot) at every size, every mode", on_models("a57")),
    ("alloc_free", "allocate + free ≤ 1.0× dma-heap (cached), ≤ 1.2× "
     "(coherent, wc), at every size", every_run),
    ("memory", "≤ 256 bytes of kernel memory per live block, every mode",
     every_run),
    ("copy", "memcpy into and out of a cached mapping ≥ 0.95× malloc",
     every_run),
    ("attach", "attach by name with 10 000 live blocks ≤ 1.2× with 10",
     every_run),
]


def targets_table(runs):
    names = [run["name"] for run in runs]
    lines = ["| target | " + " | ".join(f"{name}: measured (worst) | {name}: verdict"
                                         for name in names) + " |",
             "|---|" + "---|---|" * len(names)]
    for key, description, judged in TARGETS:
        row = f"| {description} |"
        for run in runs:
            verdict = run["verdicts"][key]
            measured = verdict.text('B' if key == 'memory' else '×')
            if not judged(run):
                row += f" {measured} | (not judged on this run) |"
            else:
                row += f" {measured} | {VERDICT_WORDS[verdict.met()]} |"
        lines.append(row)
    return "\n".join(lines) + "\n"


def fault_cost_lines(runs):
    """The write-fault cost map_touch_fault allows, per run that judges it."""
    judged = next(judged for key, _, judged in TARGETS
                  if key == "map_touch_fault")
    lines = []
    for run in runs:
        if not judged(run):
            continue
        costs = []
        for mode in MODES:
            cost, measured_on = clean_entry_fault_cost(run["results"], mode)
            text = "not measured" if cost is None else f"{cost / 1000:.1f} µs"
            if measured_on not in (None, mode):
                text += f" (the {measured_on} row's: mapped huge in table 3)"
            costs.append(f"{mode} {text}")
        lines.append(f"- `{run['name']}`: {', '.join(costs)}")
    if not lines:
        return ""
    return ("\nThe cost of one write fault on a clean entry of a fresh "
            "cmamem mapping, from table 3 of the same boot (the limit of "
            "the target that allows it):\n\n" + "\n".join(lines) + "\n")


def notes_section():
    lines = ["## The targets, and why they come out as they do", ""]
    for key, description, _ in TARGETS:
        if key in TARGET_NOTES:
            lines.append(f"- **{description}**: {TARGET_NOTES[key]}")
    return "\n".join(lines) + "\n"


def without_c_targets(tables):
    """cmamem bench's own Targets table (issue 7's limits, for a board run
    by hand) would contradict the verdicts above: the report leaves it out."""
    start = tables.find("\n### Targets\n")
    if start < 0:
        return tables
    end = tables.find("\n### ", start + 1)
    return tables[:start + 1] + (tables[end + 1:] if end >= 0 else "")


def without_init_on_alloc_section(run):
    """The boot that measured allocation and freeing with init_on_alloc=0."""
    verdict = run["verdicts"]["alloc_free"]
    description = next(description for key, description, _ in TARGETS
                       if key == "alloc_free")
    text = (f"\n## Allocation and freeing without `init_on_alloc` "
            f"(CPU model `{run['model']}`)\n\n"
            "The boots above have `init_on_alloc=1`, as Debian's kernels "
            "default to: the page allocator zeroes every page it hands out, "
            "CMA's included, before the driver or the heap sees it. This "
            "boot has `init_on_alloc=0` and measures allocation and freeing "
            "alone (measurement 1), the case in which each zeroes the memory "
            "itself.\n\n")
    text += run_table(run["info"], run["facts"], run["loads"], run["others"],
                      run["results"]) + "\n"
    text += (f"Target: {description}: {verdict.text()}, "
             f"{VERDICT_WORDS[verdict.met()]}.\n\n")
    return text + without_c_targets(run["tables"])


def parse_run(argument):
    # A run is named after its CPU model, plus "-KERNEL" for a kernel
    # other than 6.1 (scripts/bench.sh).
    name, _, directory = argument.partition("=")
    model = name.partition("-")[0]
    if model not in MODELS or not directory:
        sys.exit(f"report.py: --run wants MODEL[-KERNEL]=DIRECTORY with MODEL one of {', '.join(MODELS)}")
    log = os.path.join(directory, "guest.log")
    info, tables, results, reports, status = parse_guest_log(log)
    pressure = pressure_report.parse(log)
    if pressure:
        reports += [f"the pressure run said: {message}" for message in pressure[2]]
        if pressure[1] != "0" or pressure[0] is None:
            reports.append(f"the pressure run failed (status {pressure[1]})")
    if status != "0" or reports:
        for report in reports:
            print(f"report.py: {model}: {report}", file=sys.stderr)
        sys.exit(f"report.py: {model}: the guest's benchmark did not run cleanly (status {status})")
    detected = has_hafdbs(info.get("cpu_detected", []))
    if detected != (model == "hafdbs"):
        sys.exit(f"report.py: {model}: the guest's kernel "
                 f"{'reports' if detected else 'does not report'} {HAFDBS}")
    loads, others = read_load(os.path.join(directory, "load.txt"))
    return {"name": name, "model": model, "directory": directory,
            "info": info, "pressure": pressure,
            "tables": tables, "results": results,
            "facts": read_facts(os.path.join(directory, "host.txt")),
            "loads": loads, "others": others, "verdicts": judge(results)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="append", required=True,
                        help="MODEL=DIRECTORY of one boot's guest.log, host.txt, load.txt")
    parser.add_argument("--without-init-on-alloc", action="append", default=[],
                        help="MODEL=DIRECTORY of a boot with init_on_alloc=0 "
                             "that measured allocation and freeing alone")
    parser.add_argument("--seconds", type=int, default=0,
                        help="how long the whole run took")
    parser.add_argument("--header", required=True)
    parser.add_argument("--gnuplot", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--plot-dir", required=True)
    arguments = parser.parse_args()

    runs = [parse_run(argument) for argument in arguments.run]
    uninitialized = [parse_run(argument)
                     for argument in arguments.without_init_on_alloc]
    output_dir = os.path.dirname(os.path.abspath(arguments.output))

    with open(arguments.header) as header:
        text = header.read().rstrip("\n") + "\n"
    text += "\n---\n\n## This run\n\n"
    text += (f"`make bench` booted the board once per CPU model and kernel "
             f"({', '.join(run['name'] for run in runs)}) and took "
             f"{arguments.seconds / 60:.1f} minutes in all.\n\n")
    for run in runs:
        text += f"### Run `{run['name']}`: {MODELS[run['model']]}\n\n"
        text += run_table(run["info"], run["facts"], run["loads"],
                          run["others"], run["results"]) + "\n"
    text += "## Targets\n\n"
    text += ("Decided by `bench/report.py` from each boot's measurements (the "
             "medians of the per-trial ratios); for each target the worst "
             "case it covers, and the limit that case has.\n\n")
    text += targets_table(runs)
    text += fault_cost_lines(runs)
    text += "\n" + pressure_report.section(runs)
    for run in runs:
        results = run["results"]
        paths, sizes = write_plot_data(results, run["directory"])
        plot_path = os.path.join(arguments.plot_dir,
                                 f"benchmarks-latency-{run['name']}.png")
        kernel = run["info"].get("kernel", ["?"])[0].split()[0]
        subtitle = (f"QEMU TCG (emulated arm64), -cpu {run['facts'].get('qemu_cpu', '?')}, "
                    f"Linux {kernel}")
        text += f"\n## Results of run `{run['name']}`\n\n"
        text += without_c_targets(run["tables"])
        # A run limited to other measurements (--only) has nothing to plot.
        if sizes:
            plot(arguments.gnuplot, paths, sizes, subtitle, plot_path)
            text += (f"\n![Latency against block size, {run['name']}]"
                     f"({os.path.relpath(plot_path, output_dir)})\n")
    for run in uninitialized:
        text += without_init_on_alloc_section(run)
    text += "\n" + notes_section()
    temporary = arguments.output + ".tmp"
    with open(temporary, "w") as output:
        output.write(text)
    os.replace(temporary, arguments.output)


if __name__ == "__main__":
    main()
