# SPDX-License-Identifier: GPL-2.0
#
# cmamem: contiguous DMA memory from CMA for user space.
#
#   make                  build cmamem.ko for the running kernel (or KDIR=...)
#   make check            lint gates + selftests on every kernel of the matrix
#   make demo             the scripted scenario on the emulated arm64 board
#   make shell            an interactive shell on that board (TARGET=...)
#   make deps             install the host packages (Debian, as root)
#   make clean            remove build outputs (keeps downloaded kernels)
#   make distclean        remove build/ entirely
#
# make check KERNELS="arm64-6.1 amd64-6.1" runs a subset of the matrix.

KDIR ?= /lib/modules/$(shell uname -r)/build
TARGET ?= arm64-6.1

.PHONY: all modules modules_install clean distclean deps check demo shell

all: modules

# Building on a board or PC against its own kernel headers.
modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/src modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR)/src INSTALL_MOD_DIR=updates modules_install

deps:
	scripts/deps.sh --update

check:
	scripts/check.sh

demo:
	scripts/vm-run.sh $(TARGET) demo

shell:
	scripts/vm-run.sh $(TARGET) shell

clean:
	rm -rf build/obj build/vm build/selftests build/userspace build/results build/logs
	-$(MAKE) -C $(KDIR) M=$(CURDIR)/src clean 2>/dev/null

distclean:
	rm -rf build
