/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * fake_libxl: the few libxl internals that libxl_precopy_throttle.c calls
 * (xenstore, the scheduler's parameters, logging, the gc's strings), on a
 * model a test sets up and inspects: one domain's scheduler and cap, a
 * table of xenstore nodes, the log lines, and failures to inject.
 */
#ifndef FAKE_LIBXL_H
#define FAKE_LIBXL_H

#include <stdbool.h>
#include <stdint.h>

#include "libxl_internal.h"

struct fake_libxl {
    libxl_scheduler sched;      /* the domain's (its cpupool's) */
    int cap;                    /* its cap (0: none) */
    unsigned int sets;          /* libxl_domain_sched_params_set calls */
    unsigned int fail_set;      /* so many set calls fail from now on */
    bool fail_get, fail_xs_write, fail_xs_read;
    char log[4096];             /* the log lines, each ending in \n */
    unsigned int warnings, errors;
};

extern struct fake_libxl fake_libxl;

/* Everything back to an empty model (frees what the fakes allocated). */
void fake_libxl_reset(libxl_scheduler sched, int cap);
/* A xenstore node's value, NULL if there is none. */
const char *fake_xs_get(const char *path);
void fake_xs_set(const char *path, const char *value);
/* A gc for the functions under test (its strings freed at reset). */
libxl__gc *fake_gc(void);

#endif
