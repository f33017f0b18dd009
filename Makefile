# xen-precopy: top-level Makefile.  The logic lives in tools/xen-tree;
# 'make help' lists the targets and variables.

# The pinned version is defined once, in tools/xen-tree.
XEN_DEB_VERSION ?= $(shell sed -n 's/^DEFAULT_XEN_DEB_VERSION=//p' tools/xen-tree)
XEN_SRC ?=
MODE ?= orig
BUILD ?= build
override BUILD := $(abspath $(BUILD))

SHELL := /bin/bash

XEN_TREE = env MODE='$(MODE)' XEN_SRC='$(XEN_SRC)' \
	XEN_DEB_VERSION='$(XEN_DEB_VERSION)' BUILD='$(BUILD)' tools/xen-tree
# the Xen tree in use (from MODE / XEN_SRC), for sub-makes
TREE := $(shell $(XEN_TREE) path)
XEN_BASE = xen-precopy-base
# the tests' build output, one folder per tree
TESTS_O = $(BUILD)/tests/$(notdir $(TREE))
TESTS = $(MAKE) -C tests XEN_ROOT='$(TREE)' XEN_BASE=$(XEN_BASE) O='$(TESTS_O)'

.PHONY: all help deps fetch tree build summary check check-unit bisect debian check-debian \
	check-packaging refresh clean distclean e2e e2e-images

all: deps
	$(XEN_TREE) all

help:
	@echo 'Targets:'
	@echo '  all        (default) deps, tree, build, then print a summary'
	@echo '  deps       install missing build and test packages (tools/install-deps)'
	@echo '  fetch      download and verify Debian source package xen=$$(XEN_DEB_VERSION) into $$(BUILD)/dl'
	@echo '  tree       prepare the Xen git tree: base tagged $(XEN_BASE) + patches/series (git am)'
	@echo '  build      tree, configure (once), build tools/include, tools/libs, tools/xl (-Werror)'
	@echo '  summary    print tree, mode, base, applied patches and build result'
	@echo '  check      check-unit, bisect, check-debian, check-packaging (what CI runs)'
	@echo '  check-unit build, then the tests: make -C tests check XEN_ROOT=$$(TREE) XEN_BASE=$(XEN_BASE) O=$$(BUILD)/tests/<tree>'
	@echo '  bisect     build, then tools/check-bisect: every prefix of the series built and tested ($$(BUILD)/bisect)'
	@echo '  debian     all with MODE=debian (tree from dpkg-source -x, Debian patches applied)'
	@echo '  check-debian  check-unit with MODE=debian'
	@echo '  check-packaging  dpkg-source -x, patches added to debian/patches/series, quilt push -a, dpkg-source -b'
	@echo '  e2e        build, then boot Xen + dom0 under QEMU (TCG) with the patched tools and run the'
	@echo '             migration scenarios of tests/e2e (E2E_ONLY="a b" picks some); cache: $$(BUILD)/e2e'
	@echo '  e2e-images build what e2e boots (hypervisor with shadow paging, dom0 and guest images)'
	@echo '  refresh    write the tree'"'"'s commits since $(XEN_BASE) back to patches/ (+ cover letter, series)'
	@echo '  clean      remove the tests'"'"' build output ($$(BUILD)/tests, $$(BUILD)/bisect, tests/build)'
	@echo '  distclean  clean, and remove $$(BUILD) except the download cache $$(BUILD)/dl'
	@echo '  help       this list'
	@echo 'Variables:'
	@echo '  MODE=orig|debian        orig: upstream tarball only (default); debian: with Debian patches'
	@echo '  XEN_SRC=/path/to/xen    use this Xen tree (copied, never modified) instead of Debian'"'"'s package'
	@echo '  XEN_DEB_VERSION=<ver>   Debian source version (default $(XEN_DEB_VERSION));'
	@echo '                          list: apt-cache showsrc xen | grep ^Version'
	@echo '  BUILD=<dir>             build folder (default build/)'
	@echo '  E2E_ONLY="a b"          make e2e: run only these scenarios (tests/e2e/scenarios.sh)'
	@echo '  FORCE=1                 let tree/build discard unsaved commits/changes in the tree'
	@echo '  REBUILD=1               run Xen'"'"'s make even when nothing changed since the last build'
	@echo 'Tree now: $(TREE)'

deps:
	tools/install-deps

fetch: deps
	$(XEN_TREE) fetch

tree: deps
	$(XEN_TREE) prepare

build: deps
	$(XEN_TREE) build

summary:
	$(XEN_TREE) summary

# One after the other, not in parallel: bisect checks out each commit of
# the tree the tests use.  check-debian and check-packaging: the series on
# Debian's patch stack.  The last line adds up the cmocka summaries.
check:
	@mkdir -p '$(BUILD)'
	@set -o pipefail; start=$$SECONDS; { \
	  $(MAKE) --no-print-directory check-unit && \
	  $(MAKE) --no-print-directory bisect && \
	  $(MAKE) --no-print-directory check-debian && \
	  $(MAKE) --no-print-directory check-packaging; \
	} 2>&1 | tee '$(BUILD)/check.log'; \
	echo "check: took $$((SECONDS - start)) s"
	@awk '/^\[  PASSED  \] [0-9]+ test/ { p += $$4 } \
	      /^\[  FAILED  \] [0-9]+ test/ { f += $$4 } \
	      END { printf "check: %d passed, %d failed\n", p, f; exit f > 0 }' \
	  '$(BUILD)/check.log'

check-unit: build
	@test -f tests/Makefile || { echo 'make check: tests/Makefile is missing: no tests to run' >&2; exit 1; }
	$(TESTS) check

bisect: build
	tools/check-bisect '$(TREE)' $(XEN_BASE) tests '$(BUILD)/bisect/$(notdir $(TREE))'

debian:
	$(MAKE) MODE=debian all

# The packager's way: Debian's patch stack, then ours, with quilt.
check-packaging: fetch
	tools/check-packaging "$$($(XEN_TREE) dsc)" patches '$(BUILD)/packaging'

check-debian:
	$(MAKE) MODE=debian check-unit

refresh:
	$(XEN_TREE) refresh

# The end-to-end test: real migrations of a PVH and a PV guest under QEMU,
# with the tree's patched tools (tests/e2e/README.md).
E2E_DIR = $(BUILD)/e2e
E2E_ONLY ?=
e2e-images: build
	tools/install-deps e2e
	tests/e2e/build '$(TREE)' '$(E2E_DIR)'

e2e: e2e-images
	tests/e2e/run '$(E2E_DIR)' $(E2E_ONLY)

clean:
	if [ -f tests/Makefile ]; then $(MAKE) -C tests clean XEN_ROOT='$(TREE)'; fi
	rm -rf '$(BUILD)/tests' '$(BUILD)/bisect'

distclean: clean
	if [ -d '$(BUILD)' ]; then find '$(BUILD)' -mindepth 1 -maxdepth 1 ! -name dl -exec rm -rf {} +; fi
