/*
 * scenarios.h - workloads and a recording precopy policy, shared by the
 * unit tests and the golden test.  Include after xg_sr_common.h and
 * fake_xen.h.
 */
#ifndef SCENARIOS_H
#define SCENARIOS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * A workload: in precopy round r the guest writes writes[r] pages (or
 * dflt once the table ends), a window of consecutive pfns which moves on
 * by 'stride' pfns every round, so that successive rounds dirty partly
 * different pages.
 */
struct workload {
    unsigned long writes[FAKE_MAX_ROUNDS];
    unsigned int nr_writes;
    unsigned long dflt;
    unsigned long stride;
};

static void workload_run(struct fake_xen *fx, unsigned int round)
{
    const struct workload *w = fx->opaque;
    unsigned long n = round < w->nr_writes ? w->writes[round] : w->dflt;
    unsigned long i, start = (unsigned long)round * w->stride;

    for ( i = 0; i < n; i++ )
        fake_guest_write(fx, start + i);
}

/* A policy which records what it saw, and asks 'inner' what to decide. */
#define MAX_CALLS 4096
struct policy_call {
    struct precopy_stats stats;
    unsigned long pages_sent;   /* fake.pages_sent at the time */
    bool suspended;
    int decision;
};

struct policy_log {
    unsigned int n;
    struct policy_call call[MAX_CALLS];
    int (*inner)(struct policy_log *log, struct precopy_stats stats);
    unsigned int param;         /* for inner */
};

static int recording_policy(struct precopy_stats stats, void *user)
{
    struct policy_log *log = user;
    struct policy_call *c;

    if ( log->n >= MAX_CALLS )
        abort();
    c = &log->call[log->n++];
    c->stats = stats;
    c->pages_sent = fake.pages_sent;
    c->suspended = fake.suspended;
    c->decision = log->inner(log, stats);
    return c->decision;
}

/* The upstream default rule, restated: 5 rounds, or fewer than 50 dirty. */
static int inner_default(struct policy_log *log, struct precopy_stats s)
{
    return ((s.dirty_count >= 0 && s.dirty_count < 50) || s.iteration >= 5)
        ? XGS_POLICY_STOP_AND_COPY : XGS_POLICY_CONTINUE_PRECOPY;
}

static const char *decision_name(int d)
{
    switch ( d )
    {
    case XGS_POLICY_ABORT: return "ABORT";
    case XGS_POLICY_CONTINUE_PRECOPY: return "CONTINUE";
    case XGS_POLICY_STOP_AND_COPY: return "STOP";
    default: return "INVALID";
    }
}

/*
 * One line describing what a default-policy save did, for the golden
 * comparison: result, pages per precopy round, pages after suspend, and
 * a hash of the pfns of every record in stream order, and every
 * consultation of the policy (iteration, dirty count, decision).
 * Only what the series promises to keep is in it (not total_written, which
 * the series corrects).
 */
static void trace_line(char *buf, size_t sz, const char *name, int rc,
                       const struct policy_log *log)
{
    size_t len;
    unsigned int i;

    len = snprintf(buf, sz, "%s rc=%d suspended=%u rounds=", name, rc,
                   fake.suspend_calls);
    for ( i = 0; i <= fake_round(&fake) && i < FAKE_MAX_ROUNDS && len < sz;
          i++ )
        len += snprintf(buf + len, sz - len, "%s%lu", i ? "," : "",
                        fake.sent_in_round[i]);
    if ( len < sz )
        len += snprintf(buf + len, sz - len,
                        " stopcopy=%lu stale=%lu stream=%016"PRIx64" calls=",
                        fake.sent_stopcopy, fake_stale_pfns(&fake, NULL),
                        fake.stream_hash);
    for ( i = 0; i < log->n && len < sz; i++ )
        len += snprintf(buf + len, sz - len, "%s%u/%ld/%s", i ? "," : "",
                        log->call[i].stats.iteration,
                        log->call[i].stats.dirty_count,
                        decision_name(log->call[i].decision));
}

#endif /* SCENARIOS_H */
