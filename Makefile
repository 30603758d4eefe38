# SPDX-License-Identifier: GPL-2.0
#
# cmamem: contiguous DMA memory from CMA for user space.
#
#   make                  build cmamem.ko for the running kernel (or KDIR=...)
#   make check            lint gates + selftests on every kernel of the matrix
#   make demo             the scripted scenario on the emulated arm64 board
#   make shell            an interactive shell on that board (TARGET=...)
#   make bench            benchmarks on the emulated board: docs/benchmarks.md
#   make coverage         the suite on the debug kernel, line and branch
#                         coverage of src/ in build/coverage/ (HTML too)
#   make install          module, library, command, Python, man pages, udev
#   make deps             install the host packages (Debian, as root)
#   make clean            remove build outputs (keeps downloaded kernels)
#   make distclean        remove build/ entirely
#
# make check KERNELS="arm64-6.1 amd64-6.1" runs a subset of the matrix.

KDIR ?= /lib/modules/$(shell uname -r)/build
TARGET ?= arm64-6.1

.PHONY: all modules modules_install clean distclean deps check demo shell \
	coverage coverage-report

all: modules

# Building on a board or PC against its own kernel headers.
modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/src modules

# The release KDIR was built as (its UTS_RELEASE): Debian's header packages
# put another name in include/config/kernel.release.
modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/src INSTALL_MOD_DIR=updates \
		$(if $(KDIR_RELEASE),KERNELRELEASE=$(KDIR_RELEASE)) modules_install

deps:
	scripts/deps.sh --update

check:
	scripts/check.sh

# Coverage (docs/testing.md): coverage boots the debug kernel with the
# whole suite, then with swiotlb=force and its suites (arm64-debug-bounce),
# which adds to it; coverage-report only renders the last measured run
# (make check's debug-kernel runs measure too).
coverage:
	scripts/coverage.sh

coverage-report:
	scripts/coverage.sh report

demo:
	scripts/vm-run.sh $(TARGET) demo

shell:
	scripts/vm-run.sh $(TARGET) shell

clean:
	rm -rf build/obj build/vm build/selftests build/userspace build/results build/logs \
		build/coverage
	-$(MAKE) -C $(KDIR) M=$(CURDIR)/src clean 2>/dev/null

distclean:
	rm -rf build

# Benchmarks (docs/benchmarks.md): the bench kernel on the emulated arm64
# board, cmamem against the dma-buf CMA heap and malloc. bench-smoke runs
# the same pipeline with one trial at small sizes, into build/bench/smoke/.
.PHONY: bench bench-smoke

bench:
	scripts/bench.sh

bench-smoke:
	scripts/bench.sh --smoke

# Installing on a board or PC (docs/userspace.md):
#
#   make install [DESTDIR=/tmp/root] [PREFIX=/usr/local] [KDIR=...]
#                [ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-]
#   make uninstall   (the same variables)
#
# installs the module for KDIR's kernel in /lib/modules/<release>/updates,
# <release> being the one KDIR was built as (its UTS_RELEASE: Debian's
# header packages put another name in include/config/kernel.release); the
# library (shared and static), its headers and cmamem.pc; the command
# (built with $(CROSS_COMPILE)gcc); the Python package; the man pages; the
# udev rule and sysusers.d entry of the cmamem group; and the modprobe.d
# example, device-tree examples and documents in $(DOCDIR). Nothing needs
# root with DESTDIR. Without DESTDIR it also creates the cmamem group, runs
# depmod and ldconfig, and reloads udev's rules; uninstall keeps the group.
#
#   make userspace-check   scripts/check-userspace.sh: library, command,
#                          Python uapi, install, DKMS and man page checks
#   make dkms-check        only its DKMS build
PREFIX ?= /usr/local
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/cmamem
UDEVRULESDIR ?= /lib/udev/rules.d
SYSUSERSDIR ?= /usr/lib/sysusers.d
INSTALL_CC ?= $(CROSS_COMPILE)gcc
INSTALL_BUILD = $(CURDIR)/build/install/$(notdir $(INSTALL_CC))
KDIR_RELEASE = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' \
	$(KDIR)/include/generated/utsrelease.h 2>/dev/null)
# Every function of the library gets a man3 page that includes libcmamem.3.
LIBRARY_FUNCTIONS = $(shell sed -n 's/^\t\(cmamem_[a-z_]*\);$$/\1/p' \
	userspace/lib/libcmamem.map)
# The device-tree examples docs/devicetree.md refers to.
DT_EXAMPLES = dts/qemu-virt-cmamem.dtso dts/qemu-virt-arm32-cmamem.dtso \
	dts/bindings/cmamem,pool.yaml

.PHONY: install uninstall userspace-check dkms-check

install: modules
	@[ -n "$(KDIR_RELEASE)" ] || { echo "install: $(KDIR) has no" \
		"include/generated/utsrelease.h: set KDIR to the kernel's build directory" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR)/src KERNELRELEASE=$(KDIR_RELEASE) \
		INSTALL_MOD_PATH=$(DESTDIR) INSTALL_MOD_DIR=updates modules_install
	$(MAKE) -C userspace CC=$(INSTALL_CC) OUTPUT=$(INSTALL_BUILD) \
		DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) install
	install -D -m 0644 man/cmamem.1 $(DESTDIR)$(MANDIR)/man1/cmamem.1
	install -D -m 0644 man/libcmamem.3 $(DESTDIR)$(MANDIR)/man3/libcmamem.3
	install -D -m 0644 man/cmamem.4 $(DESTDIR)$(MANDIR)/man4/cmamem.4
	for function in $(LIBRARY_FUNCTIONS); do \
		echo '.so man3/libcmamem.3' >$(DESTDIR)$(MANDIR)/man3/$$function.3 || exit 1; \
	done
	install -D -m 0644 packaging/60-cmamem.rules \
		$(DESTDIR)$(UDEVRULESDIR)/60-cmamem.rules
	install -D -m 0644 packaging/cmamem-sysusers.conf \
		$(DESTDIR)$(SYSUSERSDIR)/cmamem.conf
	install -D -m 0644 packaging/cmamem.conf \
		$(DESTDIR)$(DOCDIR)/examples/modprobe.d/cmamem.conf
	install -d $(DESTDIR)$(DOCDIR)/examples/devicetree
	install -m 0644 $(DT_EXAMPLES) $(DESTDIR)$(DOCDIR)/examples/devicetree/
	install -m 0644 README.md docs/userspace.md docs/devicetree.md \
		$(DESTDIR)$(DOCDIR)/
	@if [ -z "$(DESTDIR)" ]; then \
		echo "depmod -a $(KDIR_RELEASE)"; depmod -a $(KDIR_RELEASE) || exit 1; \
		getent group cmamem >/dev/null || { echo "groupadd --system cmamem"; \
			groupadd --system cmamem || exit 1; }; \
		if command -v udevadm >/dev/null; then \
			echo "udevadm control --reload"; udevadm control --reload; \
			udevadm trigger --subsystem-match=misc --action=change; \
		fi; \
	fi

uninstall:
	@[ -n "$(KDIR_RELEASE)" ] || { echo "uninstall: $(KDIR) has no" \
		"include/generated/utsrelease.h: set KDIR to the kernel's build directory" >&2; exit 1; }
	rm -f $(DESTDIR)/lib/modules/$(KDIR_RELEASE)/updates/cmamem.ko \
		$(DESTDIR)/lib/modules/$(KDIR_RELEASE)/updates/cmamem.ko.*
	$(MAKE) -C userspace CC=$(INSTALL_CC) OUTPUT=$(INSTALL_BUILD) \
		DESTDIR=$(DESTDIR) PREFIX=$(PREFIX) uninstall
	rm -f $(DESTDIR)$(MANDIR)/man1/cmamem.1 $(DESTDIR)$(MANDIR)/man3/libcmamem.3 \
		$(DESTDIR)$(MANDIR)/man4/cmamem.4 \
		$(foreach function,$(LIBRARY_FUNCTIONS),$(DESTDIR)$(MANDIR)/man3/$(function).3)
	rm -f $(DESTDIR)$(UDEVRULESDIR)/60-cmamem.rules $(DESTDIR)$(SYSUSERSDIR)/cmamem.conf
	rm -rf $(DESTDIR)$(DOCDIR)
	@if [ -z "$(DESTDIR)" ]; then \
		echo "depmod -a $(KDIR_RELEASE)"; depmod -a $(KDIR_RELEASE); \
		if command -v udevadm >/dev/null; then udevadm control --reload; fi; \
	fi

userspace-check:
	scripts/check-userspace.sh

dkms-check:
	scripts/check-userspace.sh dkms
