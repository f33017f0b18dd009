/* SPDX-License-Identifier: LGPL-2.1-only */
/* fake_libxl: see fake_libxl.h. */
#include "libxl_osdeps.h" /* before any other header: _GNU_SOURCE */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_libxl.h"

struct fake_libxl fake_libxl;

#define MAX_NODES 16
static struct { char *path, *value; } nodes[MAX_NODES];
#define MAX_ALLOCS 256
static void *allocs[MAX_ALLOCS];
static unsigned int nr_allocs;
static libxl__gc the_gc;

static void *keep(void *p)
{
    if (!p || nr_allocs == MAX_ALLOCS)
        abort();
    allocs[nr_allocs++] = p;
    return p;
}

void fake_libxl_reset(libxl_scheduler sched, int cap)
{
    unsigned int i;

    for (i = 0; i < MAX_NODES; i++) {
        free(nodes[i].path);
        free(nodes[i].value);
        nodes[i].path = nodes[i].value = NULL;
    }
    for (i = 0; i < nr_allocs; i++)
        free(allocs[i]);
    nr_allocs = 0;
    memset(&fake_libxl, 0, sizeof(fake_libxl));
    fake_libxl.sched = sched;
    fake_libxl.cap = cap;
    LIBXL_INIT_GC(the_gc, NULL);
}

libxl__gc *fake_gc(void)
{
    return &the_gc;
}

const char *fake_xs_get(const char *path)
{
    unsigned int i;

    for (i = 0; i < MAX_NODES; i++)
        if (nodes[i].path && !strcmp(nodes[i].path, path))
            return nodes[i].value;
    return NULL;
}

void fake_xs_set(const char *path, const char *value)
{
    unsigned int i, free_slot = MAX_NODES;

    for (i = 0; i < MAX_NODES; i++) {
        if (nodes[i].path && !strcmp(nodes[i].path, path)) {
            free(nodes[i].value);
            nodes[i].value = strdup(value);
            return;
        }
        if (!nodes[i].path && free_slot == MAX_NODES)
            free_slot = i;
    }
    if (free_slot == MAX_NODES)
        abort();
    nodes[free_slot].path = strdup(path);
    nodes[free_slot].value = strdup(value);
}

static void fake_xs_rm(const char *path)
{
    unsigned int i;

    for (i = 0; i < MAX_NODES; i++)
        if (nodes[i].path && !strcmp(nodes[i].path, path)) {
            free(nodes[i].path);
            free(nodes[i].value);
            nodes[i].path = nodes[i].value = NULL;
        }
}

/*----- libxl's, as libxl_precopy_throttle.c calls them -----*/

void libxl__log(libxl_ctx *ctx, xentoollog_level msglevel, int errnoval,
                const char *file, int line, const char *func,
                uint32_t domid, const char *fmt, ...)
{
    size_t len = strlen(fake_libxl.log);
    va_list ap;

    if (msglevel == XTL_WARN)
        fake_libxl.warnings++;
    if (msglevel >= XTL_ERROR)
        fake_libxl.errors++;
    va_start(ap, fmt);
    vsnprintf(fake_libxl.log + len, sizeof(fake_libxl.log) - len, fmt, ap);
    va_end(ap);
    len = strlen(fake_libxl.log);
    if (len + 1 < sizeof(fake_libxl.log))
        strcat(fake_libxl.log, "\n");
}

char *libxl__sprintf(libxl__gc *gc, const char *fmt, ...)
{
    va_list ap;
    char *s;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return keep(s);
}

char *libxl__xs_libxl_path(libxl__gc *gc, uint32_t domid)
{
    return libxl__sprintf(gc, "/libxl/%u", domid);
}

char *libxl__xs_read(libxl__gc *gc, xs_transaction_t t, const char *path)
{
    const char *v = fake_xs_get(path);

    if (fake_libxl.fail_xs_read) {
        errno = EIO;
        return NULL;
    }
    if (!v) {
        errno = ENOENT;
        return NULL;
    }
    return keep(strdup(v));
}

int libxl__xs_read_checked(libxl__gc *gc, xs_transaction_t t,
                           const char *path, const char **result_out)
{
    if (fake_libxl.fail_xs_read)
        return ERROR_FAIL;
    *result_out = libxl__xs_read(gc, t, path);
    return 0;
}

int libxl__xs_printf(libxl__gc *gc, xs_transaction_t t,
                     const char *path, const char *fmt, ...)
{
    va_list ap;
    char *s;

    if (fake_libxl.fail_xs_write)
        return ERROR_FAIL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    fake_xs_set(path, s);
    free(s);
    return 0;
}

int libxl__xs_rm_checked(libxl__gc *gc, xs_transaction_t t,
                         const char *path)
{
    if (fake_libxl.fail_xs_write)
        return ERROR_FAIL;
    fake_xs_rm(path);
    return 0;
}

void libxl_domain_sched_params_init(libxl_domain_sched_params *p)
{
    memset(p, 0, sizeof(*p));
    p->sched = LIBXL_SCHEDULER_UNKNOWN;
    p->weight = LIBXL_DOMAIN_SCHED_PARAM_WEIGHT_DEFAULT;
    p->cap = LIBXL_DOMAIN_SCHED_PARAM_CAP_DEFAULT;
    p->period = LIBXL_DOMAIN_SCHED_PARAM_PERIOD_DEFAULT;
    p->slice = LIBXL_DOMAIN_SCHED_PARAM_SLICE_DEFAULT;
    p->latency = LIBXL_DOMAIN_SCHED_PARAM_LATENCY_DEFAULT;
    p->extratime = LIBXL_DOMAIN_SCHED_PARAM_EXTRATIME_DEFAULT;
    p->budget = LIBXL_DOMAIN_SCHED_PARAM_BUDGET_DEFAULT;
}

void libxl_domain_sched_params_dispose(libxl_domain_sched_params *p)
{
    memset(p, 0, sizeof(*p));
}

static bool has_cap(libxl_scheduler s)
{
    return s == LIBXL_SCHEDULER_CREDIT || s == LIBXL_SCHEDULER_CREDIT2;
}

int libxl_domain_sched_params_get(libxl_ctx *ctx, uint32_t domid,
                                  libxl_domain_sched_params *p)
{
    if (fake_libxl.fail_get)
        return ERROR_FAIL;
    libxl_domain_sched_params_init(p);
    p->sched = fake_libxl.sched;
    if (has_cap(fake_libxl.sched)) {
        p->weight = 256;
        p->cap = fake_libxl.cap;
    }
    return 0;
}

int libxl_domain_sched_params_set(libxl_ctx *ctx, uint32_t domid,
                                  const libxl_domain_sched_params *p)
{
    libxl_scheduler s = p->sched == LIBXL_SCHEDULER_UNKNOWN ?
                        fake_libxl.sched : p->sched;

    fake_libxl.sets++;
    if (fake_libxl.fail_set) {
        fake_libxl.fail_set--;
        return ERROR_FAIL;
    }
    if (s != fake_libxl.sched)
        return ERROR_FAIL;
    if (has_cap(s) && p->cap != LIBXL_DOMAIN_SCHED_PARAM_CAP_DEFAULT)
        fake_libxl.cap = p->cap;
    return 0;
}

const char *libxl_scheduler_to_string(libxl_scheduler s)
{
    switch (s) {
    case LIBXL_SCHEDULER_CREDIT:   return "credit";
    case LIBXL_SCHEDULER_CREDIT2:  return "credit2";
    case LIBXL_SCHEDULER_RTDS:     return "rtds";
    case LIBXL_SCHEDULER_NULL:     return "null";
    case LIBXL_SCHEDULER_ARINC653: return "arinc653";
    default:                       return "unknown";
    }
}
