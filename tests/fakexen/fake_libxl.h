/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * fake_libxl: the libxl internals that libxl_precopy_throttle.c and the
 * precopy glue of libxl_dom_save.c call (xenstore and its transactions,
 * the scheduler's parameters, logging, the gc's strings, carefds over real
 * fds, libxl's run directory, xenstore watches, the domain's info, the
 * save helper's callback and the suspend), on a model a test sets up and
 * inspects: one domain's scheduler and cap, a table of xenstore nodes, the
 * log lines, what the glue called, and failures to inject.  What the glue
 * must never reach fails the test (fake_libxl_unreached.c).
 */
#ifndef FAKE_LIBXL_H
#define FAKE_LIBXL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "libxl_internal.h"

struct fake_libxl {
    libxl_scheduler sched;      /* the domain's (its cpupool's) */
    int cap;                    /* its cap (0: none) */
    unsigned int sets;          /* libxl_domain_sched_params_set calls */
    unsigned int fail_set;      /* so many set calls fail from now on */
    bool fail_get, fail_xs_write, fail_xs_read;
    char log[4096];             /* the log lines, each ending in \n */
    unsigned int warnings, errors;

    /* The domain (libxl_domain_info). */
    bool no_domain;             /* ERROR_DOMAIN_NOTFOUND */
    uint64_t memkb;             /* its current_memkb (reset: 1 GiB) */
    unsigned int vcpus;         /* its vcpu_online (reset: 1) */

    /* xenstore's transactions: the next so many commits fail with EAGAIN
     * (libxl__xs_transaction_commit() returns +1), the transaction's
     * writes undone, and conflict() (if set) then runs as the other
     * writer which caused it. */
    unsigned int xs_conflicts;
    void (*conflict)(void);
    unsigned int xs_transactions;   /* started */
    bool xs_in_transaction;
    /* A write or rm of a path containing this fails (ERROR_FAIL). */
    const char *fail_xs_write_path;

    /* clock_gettime, as a file compiled with
     * -Dclock_gettime=fake_clock_gettime sees it: so many calls fail from
     * now on (EINVAL); clock_ns, if set, is CLOCK_MONOTONIC's time. */
    unsigned int fail_clock;
    uint64_t clock_ns;

    /* What the glue called. */
    libxl__ev_xswatch *watch;       /* the watch registered, if any */
    unsigned int carefds;           /* open */
    unsigned int callback_done;     /* ..._async_callback_done() calls */
    int callback_done_value;        /* with the last one's value */
    unsigned int suspends;          /* libxl__domain_suspend() calls (or
                                     * libxl__domain_suspend_callback()) */
    unsigned int events;            /* progress reports */
    int event_decision;             /* the last one's (a libxl_precopy_decision) */
    libxl_event *event;             /* the last one (freed at reset) */
};

extern struct fake_libxl fake_libxl;

/* Everything back to an empty model (frees what the fakes allocated). */
void fake_libxl_reset(libxl_scheduler sched, int cap);
/* A xenstore node's value, NULL if there is none. */
const char *fake_xs_get(const char *path);
void fake_xs_set(const char *path, const char *value);
/* A gc for the functions under test (its strings freed at reset). */
libxl__gc *fake_gc(void);
/* The ctx which the gc belongs to (zeroed at reset). */
libxl_ctx *fake_ctx(void);
/* libxl__run_dir_path()'s answer (reset leaves it). */
void fake_libxl_run_dir(const char *dir);
/* Calls the watch registered (fake_libxl.watch) as xenstore would: fails
 * the test if there is none. */
void fake_xs_fire_watch(libxl__egc *egc, const char *path);
int fake_clock_gettime(clockid_t clk, struct timespec *ts);

#endif
