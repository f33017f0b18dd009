/*
 * Trees before Xen 4.10's tools/libs/guest (the legacy series,
 * patches/legacy/) call this header xc_sr_common.h, in tools/libxc.  This
 * folder is on the include path only for them (tests/Makefile).
 */
#include "xc_sr_common.h"
