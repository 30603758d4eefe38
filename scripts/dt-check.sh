#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Check cmamem's device-tree binding and a board DTB that uses it.
#
# usage: scripts/dt-check.sh [BOARD_DTB] [OUTDIR]
#
#   BOARD_DTB  a flattened tree with cmamem pools in it (overlay applied).
#              Empty or absent: build the QEMU "virt" test board of the
#              matrix target DT_TARGET (default arm64-6.1) from QEMU's own
#              DTB plus that target's overlay in dts/ into OUTDIR.
#   OUTDIR     where intermediate files go (default build/dt).
#
# Steps, each of which must pass:
#   1. dt-doc-validate: the binding is a valid DT schema.
#   2. Its example compiles with dtc and validates against the binding.
#   3. (without BOARD_DTB) the overlay compiles without dtc warnings, applies
#      to QEMU's DTB, and the result is repacked.
#   4. dt-validate of the board DTB against our binding only. QEMU's own
#      nodes are not checked: several do not validate against the upstream
#      schemas, and they are not ours to fix.
#   5. What a schema cannot see: each pool's memory-region is one phandle
#      to a /reserved-memory shared-dma-pool that is either reusable (CMA,
#      pageblock aligned) or no-map (carveout, page aligned), inside RAM,
#      used by no other pool; pool names are unique and not "default".
#
# Environment:
#   DT_TARGET   the matrix target whose board is built (scripts/lib.sh):
#               arm64-6.1 uses dts/qemu-virt-cmamem.dtso, armhf-6.1-lpae
#               and armhf-6.1 dts/qemu-virt-arm32-cmamem.dtso
#   CMA_ALIGN   alignment CMA regions need (default 32M: the pageblock size
#               with 16 KiB pages, the largest our kernel matrix uses; 4M
#               covers every 4 KiB-page kernel)
#   PAGE_ALIGN  alignment carveouts need (default 16K, the largest page size
#               our kernels use)
#
# Exits 0 when everything passed, 1 otherwise, 2 on a usage error; the last
# line of output is a one-line summary.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
BINDINGS=$ROOT/dts/bindings
BINDING=$BINDINGS/cmamem,pool.yaml
DT_TARGET=${DT_TARGET:-arm64-6.1}
target_info "$DT_TARGET"
OVERLAYS=$(for overlay in $DT_OVERLAYS; do echo "$ROOT/dts/$overlay"; done)
# dt-schema and libfdt's Python module are Debian packages: use the system
# Python even when another python3 comes first in PATH.
PYTHON=${PYTHON:-/usr/bin/python3}
CMA_ALIGN=${CMA_ALIGN:-32M}
PAGE_ALIGN=${PAGE_ALIGN:-16K}

usage() {
	echo "usage: $0 [BOARD_DTB] [OUTDIR]" >&2
	echo "  BOARD_DTB empty: build the QEMU virt test board into OUTDIR" >&2
	echo "  OUTDIR defaults to build/dt" >&2
	exit 2
}

case "${1:-}" in
-h|--help) usage ;;
esac
[ $# -le 2 ] || usage

BOARD_DTB=${1:-}
OUTDIR=${2:-$ROOT/build/dt}

failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
step() { echo "--- $*"; }

for tool in dt-doc-validate dt-validate dt-mk-schema dt-extract-example \
	    dtc fdtoverlay "$PYTHON"; do
	command -v "$tool" >/dev/null ||
		{ echo "dt-check: FAILED: $tool not found (scripts/deps.sh installs it)"; exit 1; }
done
[ -z "$BOARD_DTB" ] || [ -f "$BOARD_DTB" ] ||
	{ echo "dt-check: FAILED: no such file: $BOARD_DTB"; exit 1; }
mkdir -p "$OUTDIR" || { echo "dt-check: FAILED: cannot create $OUTDIR"; exit 1; }

# Run a command; its output (both streams) goes to the named log and to our
# stdout. Fails when the command fails or, with "quiet", says anything:
# dtc and dt-doc-validate report some problems as warnings with exit 0.
run_logged() {
	local log=$1 want=$2
	shift 2
	"$@" >"$log" 2>&1
	local status=$?
	sed 's/^/    /' "$log"
	if [ $status -ne 0 ]; then
		return 1
	fi
	if [ "$want" = quiet ] && [ -s "$log" ]; then
		return 1
	fi
	return 0
}

# validate_dtb DTB LOG: dt-validate DTB against our binding only. dt-validate
# exits 0 even when nodes fail, so the errors are counted from its report:
# every error ends with "From schema: <file>". -M lists the nodes the
# binding matched, which proves it looked at them at all.
PROCESSED=$OUTDIR/processed-schema.json
validate_dtb() {
	local dtb=$1 log=$2
	dt-validate -M -s "$PROCESSED" -l "$(basename "$BINDING")" "$dtb" \
		>"$log" 2>&1 || { sed 's/^/    /' "$log"; return 1; }
	sed 's/^/    /' "$log"
	local errors matched
	errors=$(grep -c "From schema: .*$(basename "$BINDING")" "$log")
	matched=$(grep -c "matched on schema" "$log")
	if [ "$errors" -ne 0 ]; then
		echo "    $errors schema error(s) in cmamem,pool nodes"
		return 1
	fi
	if [ "$matched" -eq 0 ]; then
		echo "    the binding matched no node: no cmamem,pool node in $dtb"
		return 1
	fi
	echo "    $matched cmamem,pool node(s) valid"
	return 0
}

step "dt-doc-validate $(basename "$BINDING")"
# -u makes the $id check relative to dts/bindings.
run_logged "$OUTDIR/doc-validate.log" quiet \
	dt-doc-validate -u "$BINDINGS" "$BINDING" ||
	fail "binding does not pass dt-doc-validate"

step "dt-mk-schema (our binding plus dt-schema's core schemas)"
# The core schemas give the property types dt-validate needs to decode a
# DTB; -l below limits validation to our binding.
rm -f "$PROCESSED"	# never validate against a stale one
run_logged "$OUTDIR/mk-schema.log" quiet \
	dt-mk-schema -j -o "$PROCESSED" "$BINDINGS" ||
	fail "dt-mk-schema failed"

step "binding example: extract, compile, validate"
EXAMPLE=$OUTDIR/example
# The flags the kernel's dt_binding_check compiles examples with
# (Documentation/devicetree/bindings/Makefile): the wrapper node
# dt-extract-example puts around the example trips these checks.
if dt-extract-example "$BINDING" >"$EXAMPLE.dts" 2>"$EXAMPLE.log" &&
   run_logged "$EXAMPLE.log" quiet \
	dtc -Wno-avoid_unnecessary_addr_size -Wno-graph_child_address \
	-Wno-interrupt_provider -Wno-unique_unit_address \
	-I dts -O dtb -o "$EXAMPLE.dtb" "$EXAMPLE.dts"; then
	if ! { [ -s "$PROCESSED" ] &&
	       validate_dtb "$EXAMPLE.dtb" "$EXAMPLE-validate.log"; }; then
		fail "binding example does not validate"
	fi
else
	fail "binding example does not compile"
fi

if [ -z "$BOARD_DTB" ]; then
	step "build the QEMU virt test board DTB in $OUTDIR"
	built=1
	rm -f "$OUTDIR/final.dtb"
	# QEMU writes its generated DTB and exits at once.
	run_logged "$OUTDIR/qemu.log" any \
		timeout 120 "$QEMU" -M "$QEMU_MACHINE,dumpdtb=$OUTDIR/virt.dtb" \
		-cpu "$QEMU_CPU" -smp 2 -m "$MEMORY_MB" -nographic ||
		{ fail "$QEMU could not dump the virt DTB"; built=0; }
	if [ $built = 1 ]; then
		# The overlay cannot see the base tree's #address-cells and
		# #size-cells, so dtc assumes defaults (2/1) and warns about our
		# 2-cell reg and empty ranges; those two warnings are false.
		# Any other warning fails.
		dtbos=
		for overlay in $OVERLAYS; do
			dtbo=$OUTDIR/$(basename "$overlay" .dtso).dtbo
			run_logged "$OUTDIR/overlay.log" quiet \
				dtc -@ -Wno-avoid_default_addr_size -Wno-ranges_format \
				-I dts -O dtb -o "$dtbo" "$overlay" ||
				{ fail "overlay $overlay does not compile cleanly"; built=0; }
			dtbos="$dtbos $dtbo"
		done
	fi
	if [ $built = 1 ]; then
		# Our overlay creates /reserved-memory with 2 address and 2 size
		# cells and an empty ranges, which is only right if the root has
		# the same cells and a /reserved-memory the base might already
		# have uses them too.
		"$PYTHON" - "$OUTDIR/virt.dtb" <<-'EOF' || { fail "base DTB does not fit the overlay"; built=0; }
		import sys, libfdt
		fdt = libfdt.Fdt(open(sys.argv[1], 'rb').read())
		def cells(path):
		    off = fdt.path_offset(path)
		    try:
		        return (fdt.getprop(off, '#address-cells').as_uint32(),
		                fdt.getprop(off, '#size-cells').as_uint32())
		    except libfdt.FdtException:
		        return ('none', 'none')
		if cells('/') != (2, 2):
		    sys.exit('    root has #address-cells/#size-cells %s, overlay needs (2, 2)' % (cells('/'),))
		try:
		    fdt.path_offset('/reserved-memory')
		except libfdt.FdtException:
		    print('    base has no /reserved-memory: the overlay creates it')
		    sys.exit(0)
		if cells('/reserved-memory') != (2, 2):
		    sys.exit('    base /reserved-memory has cells %s, overlay needs (2, 2)' % (cells('/reserved-memory'),))
		print('    base has a /reserved-memory with 2/2 cells: the overlay adds to it')
		EOF
	fi
	if [ $built = 1 ]; then
		run_logged "$OUTDIR/fdtoverlay.log" quiet \
			fdtoverlay -i "$OUTDIR/virt.dtb" -o "$OUTDIR/merged.dtb" \
			$dtbos ||
			{ fail "fdtoverlay could not apply the overlay"; built=0; }
	fi
	if [ $built = 1 ]; then
		# QEMU pads the dump to 1 MiB; the kernel hangs on the padded
		# blob, so repack it to its real size.
		run_logged "$OUTDIR/repack.log" quiet \
			dtc -I dtb -O dtb -o "$OUTDIR/final.dtb" "$OUTDIR/merged.dtb" ||
			{ fail "dtc could not repack the merged DTB"; built=0; }
	fi
	[ $built = 1 ] && BOARD_DTB=$OUTDIR/final.dtb
fi

if [ -n "$BOARD_DTB" ]; then
	step "dt-validate $BOARD_DTB against $(basename "$BINDING")"
	if ! { [ -s "$PROCESSED" ] &&
	       validate_dtb "$BOARD_DTB" "$OUTDIR/validate.log"; }; then
		fail "$BOARD_DTB: cmamem,pool nodes do not validate"
	fi

	step "pool and region checks a schema cannot express"
	pools=$("$PYTHON" - "$BOARD_DTB" "$CMA_ALIGN" "$PAGE_ALIGN" <<-'EOF'
	import sys, libfdt

	def parse_size(text):
	    units = {'K': 1 << 10, 'M': 1 << 20, 'G': 1 << 30}
	    if text[-1:].upper() in units:
	        return int(text[:-1], 0) * units[text[-1].upper()]
	    return int(text, 0)

	fdt = libfdt.Fdt(open(sys.argv[1], 'rb').read())
	cma_align = parse_size(sys.argv[2])
	page_align = parse_size(sys.argv[3])
	errors = []
	summary = []

	def prop(off, name):
	    """A property's value (bytes), or None when the node lacks it.

	    Walks the node's properties instead of calling getprop(): the
	    pylibfdt in Debian 12 drops a reference to None each time getprop()
	    misses, and Python aborts at exit after enough misses.
	    """
	    poff = fdt.first_property_offset(off, libfdt.QUIET_NOTFOUND)
	    while poff >= 0:
	        p = fdt.get_property_by_offset(poff)
	        if p.name == name:
	            return bytes(p)
	        poff = fdt.next_property_offset(poff, libfdt.QUIET_NOTFOUND)
	    return None

	def u32(data):
	    return int.from_bytes(data[:4], 'big')

	def cells_of(off):
	    """#address-cells and #size-cells that apply to off's children."""
	    a = prop(off, '#address-cells')
	    s = prop(off, '#size-cells')
	    return (u32(a) if a else 2, u32(s) if s else 1)

	def reg_ranges(off):
	    """(base, size) pairs of off's reg, in its parent's cells."""
	    reg = prop(off, 'reg')
	    if reg is None:
	        return []
	    acells, scells = cells_of(fdt.parent_offset(off))
	    stride = 4 * (acells + scells)
	    if len(reg) % stride:
	        errors.append('%s: reg is not a multiple of %d cells' %
	                      (get_path(off), acells + scells))
	        return []
	    out = []
	    for i in range(0, len(reg), stride):
	        base = int.from_bytes(reg[i:i + 4 * acells], 'big')
	        size = int.from_bytes(reg[i + 4 * acells:i + stride], 'big')
	        out.append((base, size))
	    return out

	def strings(off, name):
	    value = prop(off, name)
	    if value is None:
	        return []
	    return value.rstrip(b'\0').decode('ascii', 'replace').split('\0')

	# pylibfdt has no fdt_get_path(): record each node's path on the way.
	paths = {}

	def walk(off=0, path='/'):
	    paths[off] = path
	    yield off
	    child = fdt.first_subnode(off, libfdt.QUIET_NOTFOUND)
	    while child >= 0:
	        yield from walk(child, path.rstrip('/') + '/' + fdt.get_name(child))
	        child = fdt.next_subnode(child, libfdt.QUIET_NOTFOUND)

	def get_path(off):
	    return paths[off]

	list(walk())

	ram = []
	for off in walk():
	    if prop(off, 'device_type') is not None and \
	       strings(off, 'device_type') == ['memory']:
	        ram += reg_ranges(off)

	regions_used = {}
	names = {}
	for off in walk():
	    if 'cmamem,pool' not in strings(off, 'compatible'):
	        continue
	    path = get_path(off)
	    if prop(off, 'status') is not None and \
	       strings(off, 'status')[0] not in ('okay', 'ok'):
	        continue
	    label = strings(off, 'label')
	    name = label[0] if label else fdt.get_name(off).split('@')[0]
	    if name in names:
	        errors.append('%s: pool name "%s" also used by %s' %
	                      (path, name, names[name]))
	    names[name] = path
	    if name == 'default':
	        errors.append('%s: pool name "default" is the default pool' % path)

	    region_ref = prop(off, 'memory-region')
	    if region_ref is None:
	        errors.append('%s: no memory-region' % path)
	        continue
	    if len(region_ref) != 4:
	        errors.append('%s: memory-region must be exactly one phandle '
	                      '(%d bytes found, 4 expected)' % (path, len(region_ref)))
	        continue
	    phandle = u32(region_ref)
	    region = fdt.node_offset_by_phandle(phandle, libfdt.QUIET_NOTFOUND)
	    if region < 0:
	        errors.append('%s: memory-region phandle 0x%x points nowhere' %
	                      (path, phandle))
	        continue
	    region_path = get_path(region)
	    if region_path in regions_used:
	        errors.append('%s: region %s is already used by %s' %
	                      (path, region_path, regions_used[region_path]))
	    regions_used[region_path] = path
	    if get_path(fdt.parent_offset(region)) != '/reserved-memory':
	        errors.append('%s: memory-region %s is not a /reserved-memory child' %
	                      (path, region_path))
	    if 'shared-dma-pool' not in strings(region, 'compatible'):
	        errors.append('%s: region %s is not compatible "shared-dma-pool"' %
	                      (path, region_path))
	    reusable = prop(region, 'reusable') is not None
	    no_map = prop(region, 'no-map') is not None
	    if reusable == no_map:
	        errors.append('%s: region %s must have exactly one of reusable '
	                      '(CMA) and no-map (carveout)' % (path, region_path))
	        continue
	    kind, align = ('CMA', cma_align) if reusable else ('carveout', page_align)
	    ranges = reg_ranges(region)
	    if not ranges:
	        # A dynamic region (size, alignment): the kernel places it.
	        if prop(region, 'size') is None:
	            errors.append('%s: region %s has neither reg nor size' %
	                          (path, region_path))
	        summary.append('%s: %s, placed by the kernel' % (name, kind))
	        continue
	    if len(ranges) != 1:
	        errors.append('%s: region %s must be one range' % (path, region_path))
	        continue
	    base, size = ranges[0]
	    if size == 0 or base % align or size % align:
	        errors.append('%s: %s region %s at 0x%x size 0x%x is not aligned '
	                      'to 0x%x' % (path, kind, region_path, base, size, align))
	    if not any(rb <= base and base + size <= rb + rs for rb, rs in ram):
	        errors.append('%s: region %s (0x%x..0x%x) is not inside RAM %s' %
	                      (path, region_path, base, base + size,
	                       ', '.join('0x%x..0x%x' % (b, b + s) for b, s in ram)))
	    summary.append('%s: %s %d MiB at 0x%x' % (name, kind, size >> 20, base))

	# Regions must not overlap one another.
	spans = []
	try:
	    reserved = fdt.path_offset('/reserved-memory')
	    child = fdt.first_subnode(reserved, libfdt.QUIET_NOTFOUND)
	    while child >= 0:
	        spans += [(b, s, get_path(child)) for b, s in reg_ranges(child)]
	        child = fdt.next_subnode(child, libfdt.QUIET_NOTFOUND)
	except libfdt.FdtException:
	    pass
	spans.sort()
	for (b1, s1, p1), (b2, s2, p2) in zip(spans, spans[1:]):
	    if b1 + s1 > b2:
	        errors.append('%s overlaps %s' % (p1, p2))

	if not names:
	    errors.append('no enabled cmamem,pool node')
	for e in errors:
	    print('    ' + e, file=sys.stderr)
	print('; '.join(summary))
	sys.exit(1 if errors else 0)
	EOF
	) 2>"$OUTDIR/pools.log"
	status=$?
	cat "$OUTDIR/pools.log"
	[ $status -eq 0 ] || fail "$BOARD_DTB: pool or region problems"
	[ -n "$pools" ] && echo "    $pools"
fi

if [ $failures -ne 0 ]; then
	echo "dt-check: FAILED: $failures step(s) failed (logs in $OUTDIR)"
	exit 1
fi
echo "dt-check: OK: binding and example valid; $BOARD_DTB: ${pools:-no pools}"
exit 0
