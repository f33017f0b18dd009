/* SPDX-License-Identifier: LGPL-2.1-only */
/* fake_libxl: see fake_libxl.h. */
#include "libxl_osdeps.h" /* before any other header: _GNU_SOURCE */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_libxl.h"

struct fake_libxl fake_libxl;

#define MAX_NODES 64
struct node { char *path, *value; };
static struct node nodes[MAX_NODES];
/* The nodes as a transaction found them, put back if it fails. */
static struct node snapshot[MAX_NODES];
static void **allocs;
static unsigned int nr_allocs, max_allocs;
static libxl__gc the_gc;
static libxl_ctx the_ctx;       /* (NOGC is &CTX->nogc_gc) */
static const char *run_dir = "/nonexistent";

static void *keep(void *p)
{
    if (!p)
        abort();
    if (nr_allocs == max_allocs) {
        max_allocs = max_allocs ? max_allocs * 2 : 256;
        allocs = realloc(allocs, max_allocs * sizeof(*allocs));
        if (!allocs)
            abort();
    }
    allocs[nr_allocs++] = p;
    return p;
}

static void nodes_free(struct node *n)
{
    unsigned int i;

    for (i = 0; i < MAX_NODES; i++) {
        free(n[i].path);
        free(n[i].value);
        n[i].path = n[i].value = NULL;
    }
}

static void nodes_copy(struct node *to, const struct node *from)
{
    unsigned int i;

    nodes_free(to);
    for (i = 0; i < MAX_NODES; i++)
        if (from[i].path) {
            to[i].path = strdup(from[i].path);
            to[i].value = strdup(from[i].value);
        }
}

void fake_libxl_reset(libxl_scheduler sched, int cap)
{
    unsigned int i;

    nodes_free(nodes);
    nodes_free(snapshot);
    for (i = 0; i < nr_allocs; i++)
        free(allocs[i]);
    nr_allocs = 0;
    memset(&fake_libxl, 0, sizeof(fake_libxl));
    fake_libxl.sched = sched;
    fake_libxl.cap = cap;
    fake_libxl.memkb = 1024 * 1024;
    fake_libxl.vcpus = 1;
    memset(&the_ctx, 0, sizeof(the_ctx));
    LIBXL_INIT_GC(the_ctx.nogc_gc, &the_ctx);
    LIBXL_INIT_GC(the_gc, &the_ctx);
}

libxl_ctx *fake_ctx(void)
{
    return &the_ctx;
}

void fake_libxl_run_dir(const char *dir)
{
    run_dir = dir;
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

/* As xs_rm: the node and every node below it. */
static void fake_xs_rm(const char *path)
{
    size_t len = strlen(path);
    unsigned int i;

    for (i = 0; i < MAX_NODES; i++)
        if (nodes[i].path && !strncmp(nodes[i].path, path, len) &&
            (!nodes[i].path[len] || nodes[i].path[len] == '/')) {
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

/* A write or rm of path fails, as injected; t must be open if given. */
static bool write_fails(xs_transaction_t t, const char *path)
{
    if (t != XBT_NULL && !fake_libxl.xs_in_transaction)
        fail_msg("xenstore: %s written in a transaction not open", path);
    return fake_libxl.fail_xs_write ||
           (fake_libxl.fail_xs_write_path &&
            strstr(path, fake_libxl.fail_xs_write_path));
}

int libxl__xs_printf(libxl__gc *gc, xs_transaction_t t,
                     const char *path, const char *fmt, ...)
{
    va_list ap;
    char *s;

    if (write_fails(t, path))
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
    if (write_fails(t, path))
        return ERROR_FAIL;
    fake_xs_rm(path);
    return 0;
}

int libxl__xs_write_checked(libxl__gc *gc, xs_transaction_t t,
                            const char *path, const char *string)
{
    if (write_fails(t, path))
        return ERROR_FAIL;
    fake_xs_set(path, string);
    return 0;
}

/*
 * One transaction at a time, as the glue opens them: a snapshot of the
 * nodes at its start, put back if it fails or is aborted.
 */
int libxl__xs_transaction_start(libxl__gc *gc, xs_transaction_t *t)
{
    if (*t || fake_libxl.xs_in_transaction)
        fail_msg("xenstore: a transaction started with one open");
    nodes_copy(snapshot, nodes);
    fake_libxl.xs_in_transaction = true;
    fake_libxl.xs_transactions++;
    *t = 42;
    return 0;
}

int libxl__xs_transaction_commit(libxl__gc *gc, xs_transaction_t *t)
{
    if (!*t || !fake_libxl.xs_in_transaction)
        fail_msg("xenstore: a commit with no transaction");
    *t = XBT_NULL;
    fake_libxl.xs_in_transaction = false;
    if (fake_libxl.xs_conflicts) {
        fake_libxl.xs_conflicts--;
        nodes_copy(nodes, snapshot);
        if (fake_libxl.conflict)
            fake_libxl.conflict();
        return +1;
    }
    return 0;
}

void libxl__xs_transaction_abort(libxl__gc *gc, xs_transaction_t *t)
{
    if (!*t)
        return;
    nodes_copy(nodes, snapshot);
    fake_libxl.xs_in_transaction = false;
    *t = XBT_NULL;
}

/*----- libxl's, as the precopy glue of libxl_dom_save.c calls them -----*/

void libxl__free_all(libxl__gc *gc)
{
    /* (what the gc holds is freed at reset) */
}

char *libxl__strdup(libxl__gc *gc_opt, const char *c)
{
    return c ? keep(strdup(c)) : NULL;
}

const char *libxl__run_dir_path(void)
{
    return run_dir;
}

/* Over real fds, close-on-exec as libxl's (libxl__carefd_record()). */
struct libxl__carefd {
    int fd;
};

void libxl__carefd_begin(void)
{
}

void libxl__carefd_unlock(void)
{
}

libxl__carefd *libxl__carefd_opened(libxl_ctx *ctx, int fd)
{
    libxl__carefd *cf;
    int saved_errno = errno;

    if (fd < 0)
        return NULL;
    if (fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC))
        abort();
    cf = malloc(sizeof(*cf));
    if (!cf)
        abort();
    cf->fd = fd;
    fake_libxl.carefds++;
    errno = saved_errno;
    return cf;
}

int libxl__carefd_close(libxl__carefd *cf)
{
    int r;

    if (!cf)
        return 0;
    r = close(cf->fd);
    free(cf);
    fake_libxl.carefds--;
    return r;
}

int libxl__carefd_fd(const libxl__carefd *cf)
{
    return cf ? cf->fd : -1;
}

int libxl__ev_xswatch_register(libxl__gc *gc, libxl__ev_xswatch *w,
                               libxl__ev_xswatch_callback *func,
                               const char *path)
{
    if (fake_libxl.watch)
        fail_msg("xenstore: a second watch registered (%s)", path);
    w->path = keep(strdup(path));
    w->callback = func;
    w->slotnum = 0;
    fake_libxl.watch = w;
    return 0;
}

void libxl__ev_xswatch_deregister(libxl__gc *gc, libxl__ev_xswatch *w)
{
    if (!libxl__ev_xswatch_isregistered(w))
        return;
    if (w != fake_libxl.watch)
        fail_msg("xenstore: deregistering a watch never registered");
    w->slotnum = -1;
    fake_libxl.watch = NULL;
}

void fake_xs_fire_watch(libxl__egc *egc, const char *path)
{
    libxl__ev_xswatch *w = fake_libxl.watch;

    if (!w)
        fail_msg("xenstore: no watch registered to fire (%s)", path);
    w->callback(egc, w, w->path, path);
}

void libxl_dominfo_init(libxl_dominfo *p)
{
    memset(p, 0, sizeof(*p));
}

void libxl_dominfo_dispose(libxl_dominfo *p)
{
    memset(p, 0, sizeof(*p));
}

int libxl_domain_info(libxl_ctx *ctx, libxl_dominfo *info, uint32_t domid)
{
    if (fake_libxl.no_domain)
        return ERROR_DOMAIN_NOTFOUND;
    libxl_dominfo_init(info);
    info->domid = domid;
    info->current_memkb = fake_libxl.memkb;
    info->max_memkb = fake_libxl.memkb;
    info->vcpu_online = fake_libxl.vcpus;
    info->vcpu_max_id = fake_libxl.vcpus - 1;
    return 0;
}

void libxl__xc_domain_saverestore_async_callback_done(libxl__egc *egc,
        libxl__save_helper_state *shs, int return_value)
{
    fake_libxl.callback_done++;
    fake_libxl.callback_done_value = return_value;
}

void libxl__domain_suspend(libxl__egc *egc, libxl__domain_suspend_state *dsps)
{
    fake_libxl.suspends++;
}

/* (the suspend of the series' first prefixes, before patch 15) */
void libxl__domain_suspend_callback(void *data)
{
    fake_libxl.suspends++;
}

libxl_event *libxl__event_new(libxl__egc *egc, libxl_event_type type,
                              uint32_t domid, libxl_ev_user for_user)
{
    libxl_event *ev = keep(calloc(1, sizeof(*ev)));

    ev->type = type;
    ev->domid = domid;
    ev->for_user = for_user;
    return ev;
}

int fake_clock_gettime(clockid_t clk, struct timespec *ts)
{
    if (fake_libxl.fail_clock) {
        fake_libxl.fail_clock--;
        errno = EINVAL;
        return -1;
    }
    if (fake_libxl.clock_ns && clk == CLOCK_MONOTONIC) {
        ts->tv_sec = fake_libxl.clock_ns / 1000000000;
        ts->tv_nsec = fake_libxl.clock_ns % 1000000000;
        return 0;
    }
    return clock_gettime(clk, ts);
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

void libxl__ao_progress_report(libxl__egc *egc, libxl__ao *ao,
                               const libxl_asyncprogress_how *how,
                               libxl_event *ev)
{
    fake_libxl.events++;
    fake_libxl.event = ev;
    if (ev->type == LIBXL_EVENT_TYPE_PRECOPY_ROUND)
        fake_libxl.event_decision = ev->u.precopy_round.decision;
}
