/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * What libxl_dom_save.c references but its precopy glue must never reach
 * (the rest of a save: the stream, the suspend's machinery, qemu's
 * log-dirty, Remus and COLO, the emulator's xenstore data): each fails
 * the test, naming itself.  No libxl header here, so that the stubs need
 * not follow each tree's prototypes: they are never meant to return.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#define UNREACHED(f) \
    void f(void); \
    void f(void) { fail_msg("the precopy glue reached %s()", #f); }

UNREACHED(libxl__ao_inprogress_gc)
UNREACHED(libxl__colo_save_teardown)
UNREACHED(libxl__device_model_version_running)
UNREACHED(libxl__domain_suspend_init)
UNREACHED(libxl__ev_evtchn_cancel)
UNREACHED(libxl__ev_qmp_dispose)
UNREACHED(libxl__ev_qmp_init)
UNREACHED(libxl__ev_qmp_send)
UNREACHED(libxl__ev_time_deregister)
UNREACHED(libxl__ev_time_register_rel)
UNREACHED(libxl__qmp_param_add_bool)
UNREACHED(libxl__realloc)
UNREACHED(libxl__remus_teardown)
UNREACHED(libxl__stream_write_start)
UNREACHED(libxl__xs_directory)
UNREACHED(libxl_defbool_val)
UNREACHED(libxl_get_stubdom_id)
UNREACHED(xc_domain_getvnuma)
UNREACHED(xc_suspend_evtchn_release)
