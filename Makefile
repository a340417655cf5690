# SPDX-License-Identifier: GPL-2.0
#
# Entry points for people and CI. The kernel module itself is described in
# Kbuild; everything here drives it, the tests and the test VM.

# The target kernel: Debian's 6.12 LTS. The newest installed 6.12 build tree
# wins unless KVER or KDIR is given.
KVER ?= $(shell ls -d /lib/modules/6.12.*-amd64/build 2>/dev/null | \
		sed 's|/lib/modules/||; s|/build||' | sort -V | tail -n 1)
KDIR ?= /lib/modules/$(KVER)/build
BUILD ?= $(CURDIR)/build
V ?= 0

SELFTESTS_DIR := $(CURDIR)/selftests

.PHONY: all module selftests xtcpize deps demo check check-debug style \
	install install-xtcpize clean help bench

all: module selftests xtcpize

help:
	@echo 'make            build xtcp.ko, xtcp_diag.ko, the selftests and xtcpize'
	@echo 'make demo       install dependencies, build, boot the test VM, show xtcp'
	@echo 'make check      install dependencies, style gate, build, run the selftests in the VM'
	@echo 'make check-debug  the selftests on a KASAN/lockdep/kmemleak kernel (built once, cached)'
	@echo 'make bench      Linux TCP and xtcp side by side in the VM on an instruction-counting clock'
	@echo 'make style      checkpatch --strict, shellcheck, sparse and W=1 on the module'
	@echo 'make install    install xtcp.ko and xtcp_diag.ko into /lib/modules/$$(uname -r)/updates,'
	@echo '                run depmod,'
	@echo '                and xtcpize (make install-xtcpize: xtcpize alone, PREFIX=/usr/local)'
	@echo 'make clean      remove build products'
	@echo 'Variables: KDIR=<kernel build tree> (default $(KDIR)), BUILD=<dir> (default build/)'

module:
	@test -d "$(KDIR)" || { echo "xtcp: no kernel build tree at '$(KDIR)';" \
		"run scripts/deps.sh or pass KDIR=" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) W=1 V=$(V) modules
	@mkdir -p $(BUILD)
	cp xtcp.ko $(BUILD)/xtcp.ko
	@# xtcp_diag.ko is built where the kernel has inet_diag (Kbuild);
	@# never a copy left by a build against another kernel.
	rm -f $(BUILD)/xtcp_diag.ko
	if grep -q '/xtcp_diag\.o$$' modules.order; then \
		cp xtcp_diag.ko $(BUILD)/xtcp_diag.ko; fi

selftests:
	$(MAKE) -C $(SELFTESTS_DIR) BUILD=$(BUILD)

# The LD_PRELOAD launcher that runs unmodified programs over xtcp.
xtcpize:
	$(MAKE) -C tools/xtcpize BUILD=$(BUILD)

deps:
	@scripts/deps.sh

# slub_debug off: the demo is not a test, and with it on the kernel prints
# its unhashed-pointer notice on the console.
demo: deps
	$(MAKE) all
	scripts/vm.sh --timeout 300 --append slub_debug=- -- scripts/demo.sh

check: deps
	$(MAKE) style
	$(MAKE) all
	scripts/run-tests.sh

check-debug: deps
	scripts/debug-kernel.sh
	$(MAKE) all KDIR=$$(scripts/debug-kernel.sh --print-kdir) \
		BUILD=$(BUILD)/debug XTCP_TIMEOUT_SCALE=10
	XTCP_TIMEOUT_SCALE=10 scripts/run-tests.sh --debug

bench: deps
	$(MAKE) module
	scripts/bench.sh

style:
	@KDIR=$(KDIR) scripts/style.sh

install: module install-xtcpize
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=updates modules_install
	depmod -a $(KVER)

install-xtcpize: xtcpize
	$(MAKE) -C tools/xtcpize BUILD=$(BUILD) install

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	-$(MAKE) -C $(SELFTESTS_DIR) BUILD=$(BUILD) clean 2>/dev/null
	-$(MAKE) -C tools/xtcpize BUILD=$(BUILD) clean 2>/dev/null
	rm -rf $(BUILD)
