# What the stub layer (tests/fakexen) must know of the Xen tree XEN_ROOT
# (4.10 and later: tools/libs/guest), for the makefiles which build it
# (tests/Makefile, tools/precopy-sim/Makefile): -DFAKE_XEN_* flags.
#   FAKE_XEN_GETINFO_SINGLE  libxenctrl has xc_domain_getinfo_single()
#                            (4.18 and later) instead of xc_domain_getinfo()
#   FAKE_XEN_WRITEV_MUTABLE  writev_exact() takes a non-const iovec (4.23
#                            and later)
FAKE_XEN_LAYOUT := \
  $(if $(shell grep -s xc_domain_getinfo_single \
    $(XEN_ROOT)/tools/include/xenctrl.h),-DFAKE_XEN_GETINFO_SINGLE) \
  $(if $(shell grep -s 'writev_exact.int fd. struct iovec' \
    $(XEN_ROOT)/tools/libs/ctrl/xc_private.h),-DFAKE_XEN_WRITEV_MUTABLE)
