# SPDX-License-Identifier: GPL-2.0
#
# Entry points for people and CI. The kernel module itself is described in
# Kbuild; everything here drives it, the tests and the test VM.

# The newest installed kernel whose release matches a pattern.
kver_of = $(shell ls -d /lib/modules/$(1)/build 2>/dev/null | \
		sed 's|/lib/modules/||; s|/build||' | sort -V | tail -n 1)
# The target kernel: Debian's 6.12 LTS. The newest installed 6.12 build tree
# (not the PREEMPT_RT one) wins unless KVER or KDIR is given; `make install`
# installs for KVER. The other supported kernels (README.md) by release or
# by series: KVER=6.1 (Debian 12's default) or KVER=6.12-rt (PREEMPT_RT),
# the newest installed of the series; scripts/deps.sh SERIES installs it.
KVER_612 := $(call kver_of,6.12.*[0-9]-amd64)
KVER ?= $(KVER_612)
KSERIES := $(KVER)
ifeq ($(KVER),6.1)
override KVER := $(call kver_of,6.1.0-*-amd64)
else ifeq ($(KVER),6.12-rt)
override KVER := $(call kver_of,6.12.*-rt-amd64)
else ifeq ($(KVER),6.12)
override KVER := $(KVER_612)
endif
KDIR ?= /lib/modules/$(KVER)/build
# Everything built for the default kernel goes to build/, for another
# KVER to build/KVER/, so that builds for different kernels coexist.
BUILD ?= $(CURDIR)/build$(if $(filter-out $(KVER_612),$(KVER)),/$(KVER))
# Kbuild writes objects next to the sources it is given: each build has
# its own tree of links to them.
KBUILD_TREE = $(BUILD)/kbuild
KBUILD_SRCS := Kbuild VERSION module include
V ?= 0
# `make check` sets WERROR=1: warnings then fail the module build.
WERROR ?= 0
VERSION := $(shell cat $(CURDIR)/VERSION)
PREFIX ?= /usr/local
DESTDIR ?=
# Where `make dkms` copies the module sources for DKMS.
DKMS_SRC ?= /usr/src/xtcp-$(VERSION)
# The files DKMS needs to build xtcp.ko.
# What DKMS needs to build the modules: the sources, not build products.
DKMS_FILES := dkms.conf Kbuild VERSION $(wildcard module/*.c module/*.h) \
	include/uapi/linux/xtcp.h

SELFTESTS_DIR := $(CURDIR)/selftests

.PHONY: all module selftests xtcpize deps demo check check-pair check-debug style \
	check-rt check-kver \
	install install-xtcpize clean help bench dkms dkms-src \
	check-dkms deb man

all: module selftests xtcpize

help:
	@echo 'make            build xtcp.ko, xtcp_diag.ko, the selftests and xtcpize'
	@echo 'make demo       install dependencies, build, boot the test VM, show xtcp'
	@echo 'make check      install dependencies, style gate, build, run the selftests in the VM'
	@echo '                on 6.12 and on 6.1 (KVER=6.1, 6.12-rt or a release: that kernel only)'
	@echo 'make check-rt   the selftests on Debian'"'"'s 6.12 PREEMPT_RT kernel'
	@echo 'make check-debug  the selftests on a KASAN/lockdep/kmemleak kernel (built once, cached)'
	@echo 'make check-pair  two VMs, two kernels, one virtio-net link: handshake, bulk,'
	@echo '                TIME_WAIT, keepalive and path MTU across it (scripts/run-pair.sh;'
	@echo '                also part of make check)'
	@echo 'make check-dkms  build and install xtcp through DKMS into build/dkms, boot the VM on it'
	@echo '                (also part of make check)'
	@echo 'make bench      Linux TCP and xtcp side by side in the VM on an instruction-counting clock'
	@echo 'make style      checkpatch --strict, shellcheck, sparse and W=1 on the module'
	@echo 'make install    install xtcp.ko and xtcp_diag.ko into /lib/modules/$$(KVER)/updates and run'
	@echo '                depmod -a $$(KVER), the uapi header <linux/xtcp.h>, xtcpize, xtcp-ss and'
	@echo '                the bpftrace tools under PREFIX (default /usr/local); DESTDIR= stages it'
	@echo '                (make install-xtcpize: xtcpize alone)'
	@echo 'make dkms       copy the module sources to DKMS_SRC (default /usr/src/xtcp-VERSION) and'
	@echo '                dkms add/build/install them, so the module is rebuilt on kernel upgrades'
	@echo 'make deb        build/xtcp-dkms_VERSION_all.deb: the sources for DKMS (dh_dkms)'
	@echo 'make man        build/man/xtcp.7 and xtcp-sysctl.7 from Documentation/ (rst2man)'
	@echo 'make clean      remove build products'
	@echo 'Variables: KVER=<kernel release>, 6.1 or 6.12-rt (default the newest installed 6.12:'
	@echo '           $(KVER_612)); builds for another kernel go to build/KVER/,'
	@echo '           KDIR=<kernel build tree> (default $(KDIR)), BUILD=<dir> (default build/),'
	@echo '           WERROR=1 (warnings fail the module build; make check sets it)'
	@echo 'Version: $(VERSION) (the VERSION file)'


module:
	@test -d "$(KDIR)" || { echo "xtcp: no kernel build tree at '$(KDIR)';" \
		"run scripts/deps.sh or pass KDIR=" >&2; exit 1; }
	@mkdir -p $(KBUILD_TREE)
	cp -rsf $(addprefix $(CURDIR)/,$(KBUILD_SRCS)) $(KBUILD_TREE)/
	$(MAKE) -C $(KDIR) M=$(KBUILD_TREE) W=1 WERROR=$(WERROR) V=$(V) modules
	cp $(KBUILD_TREE)/xtcp.ko $(BUILD)/xtcp.ko
	@# xtcp_diag.ko is built where the kernel has inet_diag (Kbuild);
	@# never a copy left by a build against another kernel.
	rm -f $(BUILD)/xtcp_diag.ko
	if grep -qE '/xtcp_diag\.k?o$$' $(KBUILD_TREE)/modules.order; then \
		cp $(KBUILD_TREE)/xtcp_diag.ko $(BUILD)/xtcp_diag.ko; fi

selftests:
	$(MAKE) -C $(SELFTESTS_DIR) BUILD=$(BUILD) KDIR=$(KDIR)

# The LD_PRELOAD launcher that runs unmodified programs over xtcp.
xtcpize:
	$(MAKE) -C tools/xtcpize BUILD=$(BUILD)

deps:
	@scripts/deps.sh

# slub_debug off: the demo is not a test, and with it on the kernel prints
# its unhashed-pointer notice on the console.
# The guest writes the TIME_WAIT samples of nginx over TCP and xtcp into
# the out share; the plot is drawn here.
demo: deps
	$(MAKE) all
	rm -rf $(BUILD)/demo && mkdir -p $(BUILD)/demo
	scripts/vm.sh --timeout 900 --append slub_debug=- --out $(BUILD)/demo \
		-- scripts/demo.sh
	/usr/bin/python3 scripts/plot_timewait.py $(BUILD)/demo/nginx_tw.tsv \
		$(BUILD)/demo/timewait.png

# On the default kernel: style, build, DKMS, the suite on 6.12, a boot with
# IPv6 disabled (test_noipv6.sh), the two-VM lane, then the suite on
# Debian 12's 6.1. With KVER: the suite on that kernel alone.
check:
	scripts/deps.sh $(if $(filter-out $(KVER_612),$(KVER)),$(KSERIES),6.1)
	$(MAKE) style KDIR=/lib/modules/$(KVER_612)/build
ifeq ($(KVER),$(KVER_612))
	$(MAKE) all WERROR=1
	KVER=$(KVER) KDIR=$(KDIR) BUILD=$(BUILD) scripts/test-dkms.sh
	BUILD=$(BUILD) scripts/run-tests.sh
	BUILD=$(BUILD) scripts/run-tests.sh --append ipv6.disable=1 test_noipv6.sh
	BUILD=$(BUILD) scripts/run-pair.sh
	$(MAKE) check-kver KVER=6.1
else
	$(MAKE) check-kver KVER=$(KSERIES)
endif

# The suite on Debian's 6.12 PREEMPT_RT kernel, outside `make check` (it
# does not fit CI's time as well).
check-rt:
	$(MAKE) check KVER=6.12-rt

# KVER's module and tests, in the VM booting KVER.
check-kver:
	@test -n "$(KVER)" -a -d "$(KDIR)" || { echo "xtcp: kernel" \
		"'$(KSERIES)' not installed; run scripts/deps.sh $(KSERIES)" >&2; \
		exit 1; }
	$(MAKE) all WERROR=1
	BUILD=$(BUILD) scripts/run-tests.sh --kver $(KVER)

# DKMS build and install into a scratch tree, then the VM on that module.
check-dkms: deps
	scripts/test-dkms.sh

# The two-kernel lane alone (also part of make check): two VMs joined by
# a virtio-net link.
check-pair: deps
	$(MAKE) all
	scripts/run-pair.sh

check-debug: deps
	scripts/debug-kernel.sh
	$(MAKE) all KDIR=$$(scripts/debug-kernel.sh --print-kdir) WERROR=1 \
		BUILD=$(BUILD)/debug XTCP_TIMEOUT_SCALE=10
	XTCP_TIMEOUT_SCALE=10 scripts/run-tests.sh --debug

bench: deps
	$(MAKE) module
	scripts/bench.sh

style:
	@KDIR=$(KDIR) scripts/style.sh

# xtcp(7) from Documentation/xtcp.rst (rst2man, python3-docutils).
man:
	@mkdir -p $(BUILD)/man
	rst2man --quiet Documentation/xtcp.rst | \
		sed '1,/^\.TH/s/^\.TH .*/.TH XTCP 7 "" "$(VERSION)" "xtcp"/' \
		>$(BUILD)/man/xtcp.7
	rst2man --quiet Documentation/xtcp-sysctl.rst | \
		sed '1,/^\.TH/s/^\.TH .*/.TH XTCP-SYSCTL 7 "" "$(VERSION)" "xtcp"/' \
		>$(BUILD)/man/xtcp-sysctl.7

install: module man install-xtcpize
	install -d $(DESTDIR)$(PREFIX)/share/man/man7
	install -m 0644 $(BUILD)/man/xtcp.7 $(BUILD)/man/xtcp-sysctl.7 \
		$(DESTDIR)$(PREFIX)/share/man/man7/
	$(MAKE) -C $(KDIR) M=$(KBUILD_TREE) INSTALL_MOD_DIR=updates \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) modules_install
	install -d $(DESTDIR)$(PREFIX)/include/linux
	install -m 0644 include/uapi/linux/xtcp.h $(DESTDIR)$(PREFIX)/include/linux/xtcp.h
	install -d $(DESTDIR)$(PREFIX)/share/xtcp/bpftrace
	install -m 0755 tools/bpftrace/*.bt $(DESTDIR)$(PREFIX)/share/xtcp/bpftrace/
	$(MAKE) -C tools/xtcp-ss PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) install
	$(if $(DESTDIR),depmod -b $(DESTDIR) -a $(KVER),depmod -a $(KVER))

# The module sources as DKMS wants them in DKMS_SRC, with dkms.conf's
# PACKAGE_VERSION taken from the VERSION file.
dkms-src:
	rm -rf $(DKMS_SRC)
	install -d $(DKMS_SRC)
	cp --parents $(DKMS_FILES) $(DKMS_SRC)/
	sed -i 's/^PACKAGE_VERSION=.*/PACKAGE_VERSION="$(VERSION)"/' $(DKMS_SRC)/dkms.conf

# xtcp-dkms_VERSION_all.deb in BUILD, built by dpkg-buildpackage and
# dh_dkms (which writes the maintainer scripts that register the sources
# with dkms) from a staged copy of the DKMS sources and debian/.
DEB_SRC := $(BUILD)/deb/xtcp-$(VERSION)
deb:
	rm -rf $(BUILD)/deb
	$(MAKE) dkms-src DKMS_SRC=$(DEB_SRC)
	cp -r debian $(DEB_SRC)/
	sed -e 's/@VERSION@/$(VERSION)/' -e "s/@DATE@/$$(date -R)/" \
		debian/changelog.in >$(DEB_SRC)/debian/changelog
	rm $(DEB_SRC)/debian/changelog.in
	cd $(DEB_SRC) && dpkg-buildpackage -us -uc -b >../build.log 2>&1 || \
		{ cat ../build.log; exit 1; }
	cp $(BUILD)/deb/xtcp-dkms_$(VERSION)_all.deb $(BUILD)/

dkms: dkms-src
	dkms add $(DKMS_SRC)
	dkms build xtcp/$(VERSION) -k $(KVER)
	dkms install --force xtcp/$(VERSION) -k $(KVER)

install-xtcpize: xtcpize
	$(MAKE) -C tools/xtcpize BUILD=$(BUILD) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR) install

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	-$(MAKE) -C $(SELFTESTS_DIR) BUILD=$(BUILD) KDIR=$(KDIR) clean 2>/dev/null
	-$(MAKE) -C tools/xtcpize BUILD=$(BUILD) clean 2>/dev/null
	rm -rf $(BUILD)
