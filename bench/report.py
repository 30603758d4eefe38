#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write docs/benchmarks.md and the latency plot from a benchmark run.

scripts/bench.sh runs this on the host after the guest ran "cmamem bench".
The guest printed (see bench/guest-init.sh) INFO lines, the Markdown tables
cmamem bench wrote (ratios and target verdicts included: the C program
decides them, so a board and the emulated board say the same), and every
statistic as JSON, which this script turns into the plot. It adds the facts
of the run and, for each target, what makes it met or missed.
"""

import argparse
import json
import os
import subprocess
import sys

BACKENDS = ["coherent", "wc", "cached", "dma-heap"]

# Why each target comes out the way it does: the mechanism, read from the
# driver (src/), from the kernel's dma-heap, dma-direct and arm64 code, and
# seen in the fault counts of table 3. The verdict itself is the measured
# one; these words hold whichever way it goes.
TARGET_NOTES = {
    "cached_map_touch_vs_heap": (
        "From 64 KiB up, allocation costs both sides about the same "
        "(table 1: cached ÷ dma-heap stays near 1 with wide quartiles; "
        "both take the pages from the same CMA area with `cma_alloc()` and "
        "zero them with one `memset()`); the larger difference is in "
        "mapping and touching. cmamem fills every page-table entry inside `mmap()` "
        "(`vm_insert_pages()`), but fills them *clean*, and this board's "
        "CPU (Cortex-A57, ARMv8.0) has no hardware dirty-bit management: "
        "the first write to each page faults anyway (table 3: 16 384 faults "
        "for 64 MiB, exactly as many as the heap's fault-per-page mapping "
        "takes), and arm64 finishes each such fault with a TLB invalidation "
        "broadcast to every CPU (`ptep_set_access_flags()` calls "
        "`flush_tlb_page()`), which the heap's fault into an empty entry "
        "does not need. So on this CPU the up-front mapping is work done "
        "twice, and cmamem also walks every page at allocation "
        "(`cmamem_pages_refcounted()` and the `block->pages` array in "
        "src/block.c) where the heap walks them once. Multi-threaded TCG "
        "makes a broadcast invalidation stop every virtual CPU, which "
        "magnifies the gap here. At one page cmamem is well ahead: "
        "dma-direct serves a single page from the page allocator instead "
        "of CMA, and a dma-buf's inode, dentry and file cost more than a "
        "cmamem handle. On cores with hardware dirty-bit management "
        "(FEAT_HAFDBS: Cortex-A55, A76 and later) the write faults do not "
        "happen at all; this emulated board cannot show that case, but the "
        "read columns of table 3 show what the up-front mapping saves when "
        "no fault is taken."
    ),
    "first_touch_speedup": (
        "The target is judged on writes, the common first touch of a "
        "buffer a program fills. On this CPU every first write faults on "
        "both sides (table 3, and the note above), so cmamem saves nothing "
        "and pays the broadcast TLB invalidation on top; a separate run "
        "with one virtual CPU (not part of `make bench`) narrowed the gap "
        "to about 0.9×, so the emulator's cost of that invalidation is part "
        "of it but not all. For reads — a buffer a device filled, the "
        "camera case — cmamem takes no fault at all and the heap one per "
        "page: the \"mmap + read every page\" column is the design's "
        "advantage, and on a core with hardware dirty-bit management "
        "writes behave like those reads."
    ),
    "copy_into_cached_vs_malloc": (
        "A cached block is ordinary cacheable memory mapped with 4 KiB "
        "page-table entries, like the malloc'd reference (page-aligned, "
        "the same size, copied in and out the same way in the same "
        "trials; the bench kernel has no transparent huge pages), so "
        "copies run at the memory's speed. TCG ignores memory attributes, "
        "which is why the `coherent` and `wc` rows match it too; on "
        "hardware, CPU reads from those mappings (\"out of it\") are "
        "uncached and far slower."
    ),
    "attach_growth": (
        "Names live in a resizable hash table per pool (`rhashtable`, "
        "grown and shrunk automatically), so finding a name does not "
        "depend on how many blocks are live; the rest of ATTACH works on "
        "the attaching file's own handles, of which it holds one. What "
        "grows is the memory a lookup lands in: with 10 000 blocks the "
        "buckets and block structs spread over about 3 MB, and every "
        "first touch of a page costs the emulator a software-TLB refill "
        "(on hardware: cache and TLB misses). The live count goes up, "
        "down and up again, so drift in the host's load cannot pose as "
        "growth."
    ),
    "memory_per_block": (
        "Where the bytes go, from the caches that grew (table 7): "
        "`struct cmamem_block` (src/cmamem.h, about 230 bytes) fills a "
        "kmalloc-256 object: it keeps the name, the owner's comm and pid, "
        "and six addresses of which two (an allocation address and the "
        "window offset) would give the rest (alloc_dma, alloc_phys, "
        "dma_address, physical_address, cpu_address, first_page). "
        "`struct cmamem_handle` is 32 bytes, but every kmalloc() on arm64 "
        "Linux 6.1 is at least 128 bytes (ARCH_KMALLOC_MINALIGN is "
        "ARCH_DMA_MINALIGN, 128, until Linux 6.5), so it takes a "
        "kmalloc-128 object. A cached block also keeps `block->pages`, "
        "the array of page pointers `vm_insert_pages()` wants, made with "
        "`kvmalloc_array()` in `cmamem_block_alloc_memory()`: another 128 "
        "bytes for one page, and 8 bytes per page of a large block (128 "
        "KiB for 64 MiB). The per-file maple tree and xarray and the name "
        "table add about 40 bytes. `coherent` and `wc` blocks carry the "
        "kernel's own `vmap()` of the non-coherent remap instead of the "
        "page array (a vm_struct in kmalloc-128 and a vmap_area, about "
        "190 bytes), which no driver change removes. The cached mode can "
        "meet 256 bytes with slab caches of its own (`KMEM_CACHE()`) for "
        "blocks and handles, a block struct without the derived "
        "addresses, and the page array built in batches during `mmap()` "
        "instead of kept for the block's life. A dma-buf costs several "
        "times as much as a cmamem block (its inode, dentry and file above "
        "all)."
    ),
}

VERDICT_WORDS = {True: "met", False: "**missed**", None: "not measured"}


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
    minutes = int(facts.get("seconds", "0")) / 60
    guest_seconds = first("seconds")
    rows = [
        ("date", facts.get("date", "unknown")),
        ("commit", f"`{facts.get('commit', 'unknown')}` (plus any uncommitted changes)"),
        ("board", f"{facts.get('qemu', 'QEMU')}, machine `virt`, CPU cortex-a57, "
                  f"{first('cpus')} virtual CPUs, **TCG software emulation**, "
                  f"{first('memory')} of memory"),
        ("guest kernel", f"{first('kernel')} (arm64-bench, `{facts.get('kernel_build', '?')}`), "
                         f"page size {results.get('page_size')} bytes"),
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
    rows.append(("run time", f"{minutes:.1f} minutes for `make bench` "
                             f"(measuring in the guest: {guest_seconds} s)"))
    lines = ["| | |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in rows]
    return "\n".join(lines) + "\n"


def targets_section(results):
    lines = ["## The targets, and why they come out as they do", ""]
    for target in results.get("targets", []):
        verdict = VERDICT_WORDS[target.get("met")]
        value = target.get("value")
        if value is None:
            figure = "not measured"
        elif target["target"] == "memory_per_block":
            figure = f"{value:.0f} bytes ({target.get('detail', '')})"
        else:
            figure = f"{value:.2f}× ({target.get('detail', '')})"
        lines.append(f"- **{target['description']}**: {figure}: {verdict}. "
                     + TARGET_NOTES.get(target["target"], ""))
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guest-log", required=True)
    parser.add_argument("--host", required=True, help="facts from bench.sh")
    parser.add_argument("--load", required=True, help="load samples from bench.sh")
    parser.add_argument("--header", required=True)
    parser.add_argument("--gnuplot", required=True)
    parser.add_argument("--work", required=True, help="directory for data files")
    parser.add_argument("--output", required=True)
    parser.add_argument("--plot", required=True)
    arguments = parser.parse_args()

    info, tables, results, reports, status = parse_guest_log(arguments.guest_log)
    if status != "0" or reports:
        for report in reports:
            print(f"report.py: {report}", file=sys.stderr)
        sys.exit(f"report.py: the guest's benchmark did not run cleanly (status {status})")
    facts = read_facts(arguments.host)
    loads, others = read_load(arguments.load)

    paths, sizes = write_plot_data(results, arguments.work)
    kernel = info.get("kernel", ["?"])[0].split()[0]
    subtitle = f"QEMU TCG (emulated arm64), Linux {kernel}"
    # A run limited to other measurements (--only) has nothing to plot.
    if sizes:
        plot(arguments.gnuplot, paths, sizes, subtitle, arguments.plot)

    with open(arguments.header) as header:
        text = header.read().rstrip("\n") + "\n"
    plot_name = os.path.relpath(arguments.plot, os.path.dirname(os.path.abspath(arguments.output)))
    text += "\n---\n\n## This run\n\n"
    text += run_table(info, facts, loads, others, results)
    text += "\n## Results\n\n" + tables
    if sizes:
        text += f"\n![Latency against block size]({plot_name})\n"
    text += "\n"
    text += targets_section(results)
    temporary = arguments.output + ".tmp"
    with open(temporary, "w") as output:
        output.write(text)
    os.replace(temporary, arguments.output)


if __name__ == "__main__":
    main()
