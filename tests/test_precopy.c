/*
 * test_precopy.c - scenario tests of the live-migration precopy loop of
 * tools/libs/guest/xg_sr_save.c, run through the real xc_domain_save()
 * against the fake_xen model (see fakexen/fake_xen.h).
 *
 * Every scenario checks what was sent in which round and phase, what the
 * precopy policy saw, the return code and errno, and the state the domain
 * is left in.  Where a save completes, every pfn holds its latest version
 * at the destination; where it aborts, the guest was never suspended; in
 * every case log-dirty mode is off at the end.
 *
 * Scenarios needing a feature of the series are built only when the tree's
 * sources have it (TEST_HAVE_*, which tests/Makefile probes for), so that
 * each prefix of the series runs the tests which apply to it.
 */
#include "xg_sr_common.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <limits.h>
#include <cmocka.h>

#include "fake_xen.h"
#include "scenarios.h"

#ifdef FAKE_XEN_NO_POLICY
/* A tree without the precopy policy: test_golden records what it does. */
int main(void)
{
    printf("test_precopy: this tree has no precopy policy: skipped\n");
    return 0;
}
#else /* !FAKE_XEN_NO_POLICY */

struct fixture {
    struct save_callbacks cbs;
    struct policy_log log;
    struct workload wl;
    int rc, err;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    fake_init(1024);
    fake.workload = workload_run;
    fake.opaque = &f->wl;
    f->wl.stride = 37;
    f->log.inner = inner_default;
    f->cbs.precopy_policy = recording_policy;
    f->cbs.data = &f->log;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fake_fini();
    free(*state);
    return 0;
}

static void resize(unsigned long p2m_size)
{
    void *opaque = fake.opaque;

    fake_init(p2m_size);
    fake.workload = workload_run;
    fake.opaque = opaque;
}

static void dump(const char *name, const struct fixture *f)
{
    char line[8192];

    if ( !getenv("TEST_VERBOSE") )
        return;
    trace_line(line, sizeof(line), name, f->rc, &f->log);
    print_message("%s\n", line);
}

static void run(struct fixture *f, const char *name)
{
    f->rc = fake_domain_save(&f->cbs, true, &f->err);
    dump(name, f);
}

/* What must hold after every save, completed or not. */
static void check_domain_left_sane(const struct fixture *f)
{
    assert_false(fake.logdirty);              /* log-dirty turned off */
    assert_true(fake.logdirty_offs >= 1);
    assert_int_equal(fake.maps, fake.unmaps); /* no mapping leaked */
}

static void check_completed(const struct fixture *f)
{
    unsigned long first = ~0UL;

    assert_int_equal(f->rc, 0);
    assert_int_equal(fake.suspend_calls, 1);
    assert_true(fake.final_clean);
    assert_int_equal(fake_stale_pfns(&fake, &first), 0);
    check_domain_left_sane(f);
}

static void check_aborted(const struct fixture *f, int err)
{
    assert_int_equal(f->rc, -1);
    assert_int_equal(f->err, err);
    assert_int_equal(fake.suspend_calls, 0);  /* guest never suspended */
    assert_false(fake.suspended);
    assert_false(fake.final_clean);
    check_domain_left_sane(f);
}

static void check_call(const struct policy_call *c, unsigned int iteration,
                       long dirty_count, int decision)
{
    assert_int_equal(c->stats.iteration, iteration);
    assert_int_equal(c->stats.dirty_count, dirty_count);
    assert_int_equal(c->decision, decision);
    assert_false(c->suspended);
}

/* ---------------- the default policy ---------------- */

/*
 * A busy guest (100 pages per round) never gets under 50 dirty pages: the
 * default rule stops after 5 rounds, 1024 then 4 x 100 pages, and sends the
 * last round's 100 pages once suspended.
 */
static void test_default_busy_guest(void **state)
{
    struct fixture *f = *state;
    unsigned int i;

    f->wl.dflt = 100;
    run(f, __func__);

    check_completed(f);
    assert_int_equal(fake.sent_in_round[0], 1024);
    for ( i = 1; i <= 4; i++ )
        assert_int_equal(fake.sent_in_round[i], 100);
    assert_int_equal(fake.sent_in_round[5], 0);
    assert_int_equal(fake_round(&fake), 4);
    assert_int_equal(fake.sent_stopcopy, 100);
    assert_int_equal(fake.pages_sent, 1024 + 4 * 100 + 100);

    /* Two consultations per round: before (dirty known), after (-1). */
    assert_int_equal(f->log.n, 10);
    check_call(&f->log.call[0], 0, 1024, XGS_POLICY_CONTINUE_PRECOPY);
    assert_int_equal(f->log.call[0].pages_sent, 0);
    for ( i = 1; i <= 5; i++ )
    {
        const struct policy_call *after = &f->log.call[2 * i - 1];

        check_call(after, i, -1, i < 5 ? XGS_POLICY_CONTINUE_PRECOPY
                                       : XGS_POLICY_STOP_AND_COPY);
        assert_int_equal(after->pages_sent, 1024 + (i - 1) * 100);
        if ( i < 5 )
            check_call(&f->log.call[2 * i], i, 100,
                       XGS_POLICY_CONTINUE_PRECOPY);
    }
}

/*
 * A quiet guest converges: 10 dirty pages after the first round is under
 * the threshold.  They are still sent live before the guest is suspended,
 * and what the guest wrote meanwhile is sent after.
 */
static void test_default_quiet_guest(void **state)
{
    struct fixture *f = *state;

    f->wl.dflt = 10;
    run(f, __func__);

    check_completed(f);
    assert_int_equal(fake.sent_in_round[0], 1024);
    assert_int_equal(fake.sent_in_round[1], 10);
    assert_int_equal(fake.sent_stopcopy, 10);
    assert_int_equal(f->log.n, 3);
    check_call(&f->log.call[0], 0, 1024, XGS_POLICY_CONTINUE_PRECOPY);
    check_call(&f->log.call[1], 1, -1, XGS_POLICY_CONTINUE_PRECOPY);
    check_call(&f->log.call[2], 1, 10, XGS_POLICY_STOP_AND_COPY);
}

/* A guest which slows down: 500, 200, 60, then 20 pages per round. */
static void test_default_converging_guest(void **state)
{
    struct fixture *f = *state;

    f->wl = (struct workload){ .writes = { 500, 200, 60 }, .nr_writes = 3,
                               .dflt = 20, .stride = 101 };
    run(f, __func__);

    check_completed(f);
    assert_int_equal(fake.sent_in_round[0], 1024);
    assert_int_equal(fake.sent_in_round[1], 500);
    assert_int_equal(fake.sent_in_round[2], 200);
    assert_int_equal(fake.sent_in_round[3], 60);
    assert_int_equal(fake.sent_in_round[4], 20);
    assert_int_equal(fake.sent_stopcopy, 20);
    assert_int_equal(f->log.n, 9);
    check_call(&f->log.call[8], 4, 20, XGS_POLICY_STOP_AND_COPY);
}

/* The hypervisor fails to hand over the second log-dirty bitmap. */
static void test_logdirty_failure(void **state)
{
    struct fixture *f = *state;

    f->wl.dflt = 100;
    fake.fail_clean_on = 2;
    run(f, __func__);

    check_aborted(f, EIO);
    assert_int_equal(fake.pages_sent, 1024 + 100);
    assert_non_null(strstr(fake.error_log, "Failed to retrieve logdirty"));
}

/* The stream breaks in the middle of the first round (4 batches). */
static void test_write_failure_midround(void **state)
{
    struct fixture *f = *state;

    resize(4096);
    f->wl.dflt = 100;
    fake.fail_write_on = 2;
    run(f, __func__);

    check_aborted(f, EIO);
    assert_int_equal(fake.records, 2);
    assert_int_equal(fake.pages_sent, 1024);
    assert_int_equal(fake.cleans, 0);
    assert_int_equal(f->log.n, 1);
    assert_non_null(strstr(fake.error_log, "Failed to write page data"));
}

/*
 * Failures injected where the save can fail: each leaves the guest
 * running (never suspended) with log-dirty off, and says why.
 */
static void test_logdirty_enable_failure(void **state)
{
    struct fixture *f = *state;

    f->wl.dflt = 100;
    fake.fail_enable = true;
    run(f, __func__);

    check_aborted(f, EBUSY);
    assert_int_equal(fake.pages_sent, 0);
    assert_int_equal(f->log.n, 0);
    assert_non_null(strstr(fake.error_log, "Failed to enable logdirty"));
}

static void test_suspend_failure(void **state)
{
    struct fixture *f = *state;

    f->wl.dflt = 100;
    fake.fail_suspend = true;
    run(f, __func__);

    assert_int_equal(f->rc, -1);
    assert_int_equal(fake.suspend_calls, 0);
    assert_false(fake.suspended);
    assert_false(fake.final_clean);
    check_domain_left_sane(f);
    assert_non_null(strstr(fake.error_log, "suspend() failed"));
}

/* The stream breaks in a later round (round 2's only record). */
static void test_write_failure_later_round(void **state)
{
    struct fixture *f = *state;

    f->wl.dflt = 100;
    fake.fail_write_on = 3;
    run(f, __func__);

    check_aborted(f, EIO);
    assert_int_equal(fake.records, 3);
    assert_int_equal(fake.pages_sent, 1024 + 100);
    assert_int_equal(fake.cleans, 2);
}

#ifdef TEST_HAVE_OFF_ERROR
/*
 * Turning log-dirty off fails when the save is done: it is said, so that
 * the caller can try again (libxl does, after a failed save).
 */
static void test_logdirty_off_failure(void **state)
{
    struct fixture *f = *state;

    f->wl.dflt = 100;
    fake.fail_off_on = 1;
    run(f, __func__);

    assert_int_equal(f->rc, 0);
    assert_true(fake.logdirty);             /* left on: hence the error */
    assert_non_null(strstr(fake.error_log, "Failed to disable logdirty"));
}
#endif

/* A non-live save (xl save) suspends first and never asks the policy. */
static void test_nonlive_save(void **state)
{
    struct fixture *f = *state;
    unsigned long pfn;

    f->wl.dflt = 100;
    f->log.inner = NULL;          /* must not be called */
    f->rc = fake_domain_save(&f->cbs, false, &f->err);

    assert_int_equal(f->rc, 0);
    assert_int_equal(fake.suspend_calls, 1);
    assert_int_equal(f->log.n, 0);
    assert_int_equal(fake.logdirty_enables, 0);
    assert_int_equal(fake.cleans, 0);
    assert_int_equal(fake.sent_stopcopy, 1024);
    assert_int_equal(fake.pages_sent, 1024);
    for ( pfn = 0; pfn < 1024; pfn++ )
        assert_int_equal(fake.dest_phase[pfn], FAKE_PHASE_STOPCOPY);
    assert_int_equal(fake_stale_pfns(&fake, NULL), 0);
    check_domain_left_sane(f);
}

#ifdef TEST_HAVE_DECISION_CHECKS
/* ---------------- decisions ---------------- */

static int inner_abort_at_call(struct policy_log *log, struct precopy_stats s)
{
    return log->n == log->param ? XGS_POLICY_ABORT
                                : inner_default(log, s);
}

/*
 * The policy answers ABORT at its n-th consultation: the save fails with
 * ECANCELED, the guest is never suspended, and nothing more is sent or
 * fetched.  The last call must have seen 'iteration' and 'dirty_count'.
 */
static void check_abort_at_call(struct fixture *f, unsigned int n,
                                unsigned int iteration, long dirty_count,
                                unsigned int cleans, unsigned long pages)
{
    f->wl.dflt = 100;
    f->log.inner = inner_abort_at_call;
    f->log.param = n;
    run(f, __func__);

    check_aborted(f, ECANCELED);
    assert_int_equal(f->log.n, n);
    check_call(&f->log.call[n - 1], iteration, dirty_count, XGS_POLICY_ABORT);
    assert_int_equal(fake.cleans, cleans);
    assert_int_equal(fake.pages_sent, pages);
    assert_non_null(strstr(fake.error_log, "aborted the migration"));
}

/* Before the first round: nothing is sent. */
static void test_abort_before_first_round(void **state)
{
    check_abort_at_call(*state, 1, 0, 1024, 0, 0);
}

/* After round 2 (dirty count unknown): no further bitmap fetched. */
static void test_abort_after_round(void **state)
{
    check_abort_at_call(*state, 4, 2, -1, 1, 1024 + 100);
}

/* Before round 3, with its dirty count known: none of it is sent. */
static void test_abort_before_later_round(void **state)
{
    check_abort_at_call(*state, 5, 2, 100, 2, 1024 + 100);
}

static int inner_constant(struct policy_log *log, struct precopy_stats s)
{
    return log->n == 1 ? XGS_POLICY_CONTINUE_PRECOPY : (int)log->param;
}

/* Values other than the three decisions fail the save, never "stop". */
static void test_invalid_decision(void **state)
{
    static const int bad[] = { 2, -2, 42, INT_MIN, INT_MAX };
    struct fixture *f = *state;
    unsigned int i;
    char want[64];

    for ( i = 0; i < ARRAY_SIZE(bad); i++ )
    {
        resize(1024);
        memset(&f->log, 0, sizeof(f->log));
        f->wl.dflt = 100;
        f->log.inner = inner_constant;
        f->log.param = bad[i];
        run(f, __func__);

        check_aborted(f, EINVAL);
        assert_int_equal(f->log.n, 2);
        assert_int_equal(fake.pages_sent, 1024);
        snprintf(want, sizeof(want), "invalid decision %d\n", bad[i]);
        assert_non_null(strstr(fake.error_log, want));
    }
}
#endif /* TEST_HAVE_DECISION_CHECKS */

#ifdef TEST_HAVE_ROUND_STATS
/* ---------------- statistics ---------------- */

/*
 * pfns 100-149 are holes.  The guest writes pfns 0-149 every round: 150
 * dirty bits, but 100 pages of data.  The policy sees pages sent.
 */
static void test_stats_count_pages_sent(void **state)
{
    struct fixture *f = *state;
    unsigned long pfn;
    unsigned int i;

    for ( pfn = 100; pfn < 150; pfn++ )
        fake_set_hole(&fake, pfn);
    f->wl = (struct workload){ .dflt = 150, .stride = 0 };
    run(f, __func__);

    check_completed(f);
    assert_int_equal(fake.pfns_sent, 1024 + 4 * 150 + 150);
    assert_int_equal(fake.pages_sent, 974 + 4 * 100 + 100);
    assert_int_equal(f->log.n, 10);

    assert_int_equal(f->log.call[0].stats.total_written, 0);
    assert_int_equal(f->log.call[0].stats.round_written, 0);
    for ( i = 1; i <= 5; i++ )
    {
        const struct policy_call *after = &f->log.call[2 * i - 1];
        unsigned long round = i == 1 ? 974 : 100;

        assert_int_equal(after->stats.total_written, 974 + (i - 1) * 100);
        assert_int_equal(after->stats.total_written, after->pages_sent);
        assert_int_equal(after->stats.round_written, round);
        if ( i < 5 )
        {
            /* Before the next round: still the latest round's count. */
            assert_int_equal(f->log.call[2 * i].stats.dirty_count, 150);
            assert_int_equal(f->log.call[2 * i].stats.round_written, round);
            assert_int_equal(f->log.call[2 * i].stats.total_written,
                             after->stats.total_written);
        }
    }
}
#endif /* TEST_HAVE_ROUND_STATS */

#ifdef TEST_HAVE_MIDROUND
/* ---------------- mid-round consultation ---------------- */

static bool is_midround(const struct policy_call *c)
{
    return c->stats.round_remaining != 0;
}

/*
 * Opting in with a policy which only continues changes nothing but the
 * extra calls: same rounds, same pages, same stop point as without.
 */
static void test_midround_continue_is_transparent(void **state)
{
    struct fixture *f = *state;
    unsigned long ref[FAKE_MAX_ROUNDS], ref_stopcopy;
    unsigned int i, mid = 0;

    resize(4096);
    f->wl.dflt = 100;
    run(f, "reference");
    check_completed(f);
    memcpy(ref, fake.sent_in_round, sizeof(ref));
    ref_stopcopy = fake.sent_stopcopy;
    assert_int_equal(f->log.n, 10);

    resize(4096);
    memset(&f->log, 0, sizeof(f->log));
    f->log.inner = inner_default;
    f->cbs.precopy_policy_batches = 1;
    run(f, __func__);

    check_completed(f);
    assert_memory_equal(ref, fake.sent_in_round, sizeof(ref));
    assert_int_equal(fake.sent_stopcopy, ref_stopcopy);
    assert_int_equal(ref[0], 4096);

    /* Three calls inside the first round (4 batches), none later. */
    assert_int_equal(f->log.n, 13);
    for ( i = 0; i < f->log.n; i++ )
    {
        const struct policy_call *c = &f->log.call[i];

        if ( !is_midround(c) )
            continue;
        mid++;
        check_call(c, 0, -1, XGS_POLICY_CONTINUE_PRECOPY);
        assert_int_equal(c->stats.round_written, 1024 * mid);
        assert_int_equal(c->stats.total_written, 1024 * mid);
        assert_int_equal(c->pages_sent, 1024 * mid);
        assert_int_equal(c->stats.round_remaining, 4096 - 1024 * mid);
    }
    assert_int_equal(mid, 3);
    assert_false(is_midround(&f->log.call[4]));
}

static int inner_at_midround(struct policy_log *log, struct precopy_stats s)
{
    static unsigned int seen;

    if ( log->n == 1 )
        seen = 0;
    if ( s.round_remaining && ++seen == (log->param & 0xff) )
        return (int)(log->param >> 8) - 1;
    return inner_default(log, s);
}
#define AT_MIDROUND(nth, decision) ((((decision) + 1) << 8) | (nth))

/*
 * Save a guest of p2m_size pfns running 'wl', consulting the policy every
 * 'batches' batches; at its nth mid-round consultation it answers
 * 'decision', else the default rule.
 */
static void run_midround(struct fixture *f, const char *name,
                         unsigned long p2m_size, struct workload wl,
                         unsigned int batches, unsigned int nth, int decision)
{
    resize(p2m_size);
    f->wl = wl;
    f->log.inner = inner_at_midround;
    f->log.param = AT_MIDROUND(nth, decision);
    f->cbs.precopy_policy_batches = batches;
    run(f, name);
}

/*
 * STOP_AND_COPY after the first of 4 batches: the 3072 pfns not sent yet
 * go to the stop-and-copy phase, with what the guest wrote meanwhile.
 */
static void test_midround_stop_first_round(void **state)
{
    struct fixture *f = *state;
    const struct policy_call *c;
    unsigned long pfn;

    run_midround(f, __func__, 4096, (struct workload){ .dflt = 100 }, 1,
                 1, XGS_POLICY_STOP_AND_COPY);

    check_completed(f);
    assert_int_equal(f->log.n, 2);
    c = &f->log.call[1];
    check_call(c, 0, -1, XGS_POLICY_STOP_AND_COPY);
    assert_int_equal(c->stats.round_remaining, 3072);
    assert_int_equal(c->stats.round_written, 1024);
    assert_int_equal(fake.sent_in_round[0], 1024);
    assert_int_equal(fake.cleans, 1);               /* the FINAL one */
    /* pfns 1024-4095 deferred, plus pfns 0-99 written during the round */
    assert_int_equal(fake.sent_stopcopy, 3072 + 100);
    for ( pfn = 1024; pfn < 4096; pfn++ )
        assert_int_equal(fake.dest_phase[pfn], FAKE_PHASE_STOPCOPY);
    assert_int_equal(fake.dest_phase[100], FAKE_PHASE_PRECOPY);
}

/*
 * The same in a later round: 3000 pfns dirty in round 1 (3 batches), the
 * policy is asked every 2 batches and stops with 952 pfns left.
 */
static void test_midround_stop_later_round(void **state)
{
    struct fixture *f = *state;
    const struct policy_call *c;

    run_midround(f, __func__, 4096,
                 (struct workload){ .writes = { 3000 }, .nr_writes = 1,
                                    .dflt = 200, .stride = 500 },
                 2, 2, XGS_POLICY_STOP_AND_COPY);

    check_completed(f);
    assert_int_equal(f->log.n, 5);
    c = &f->log.call[1];          /* round 0: after batch 2 of 4 */
    check_call(c, 0, -1, XGS_POLICY_CONTINUE_PRECOPY);
    assert_int_equal(c->stats.round_remaining, 2048);
    c = &f->log.call[4];          /* round 1: after batch 2 of 3 */
    check_call(c, 1, -1, XGS_POLICY_STOP_AND_COPY);
    assert_int_equal(c->stats.round_remaining, 3000 - 2048);
    assert_int_equal(c->stats.round_written, 2048);
    assert_int_equal(c->stats.total_written, 4096 + 2048);
    assert_int_equal(fake.sent_in_round[0], 4096);
    assert_int_equal(fake.sent_in_round[1], 2048);
    /* 952 deferred, 200 written during round 1 (pfns 500-699: sent) */
    assert_int_equal(fake.sent_stopcopy, 952 + 200);
}

/* ABORT mid-round stops at once: nothing more is sent. */
static void test_midround_abort(void **state)
{
    struct fixture *f = *state;

    run_midround(f, __func__, 4096, (struct workload){ .dflt = 100,
                 .stride = 37 }, 1, 1, XGS_POLICY_ABORT);

    check_aborted(f, ECANCELED);
    assert_int_equal(f->log.n, 2);
    assert_int_equal(f->log.call[1].stats.round_remaining, 3072);
    assert_int_equal(fake.records, 1);
    assert_int_equal(fake.pages_sent, 1024);
    assert_int_equal(fake.cleans, 0);
}

/*
 * Stop at once, before the first round: that round, all of the guest, is
 * still sent live and is the last one.  Mid-round, the policy answers
 * log->param - 1.
 */
static int inner_stop_then(struct policy_log *log, struct precopy_stats s)
{
    if ( log->n == 1 )
        return XGS_POLICY_STOP_AND_COPY;
    if ( s.round_remaining )
        return (int)log->param - 1;
    return inner_default(log, s);
}

/*
 * ABORT in the last round (after a decision to stop) is acted on: the save
 * fails, the guest never suspended.
 */
static void test_midround_last_round_abort(void **state)
{
    struct fixture *f = *state;

    resize(4096);
    f->wl.dflt = 100;
    f->log.inner = inner_stop_then;
    f->log.param = XGS_POLICY_ABORT + 1;
    f->cbs.precopy_policy_batches = 1;
    run(f, __func__);

    check_aborted(f, ECANCELED);
    assert_int_equal(f->log.n, 2);
    check_call(&f->log.call[1], 0, -1, XGS_POLICY_ABORT);
    assert_int_equal(f->log.call[1].stats.round_remaining, 3072);
    assert_int_equal(fake.pages_sent, 1024);
}

/*
 * Any other decision in the last round carries on with it: the round is
 * sent live, all of it, and the pause sends only what the guest wrote.
 */
static void test_midround_last_round_carries_on(void **state)
{
    struct fixture *f = *state;
    static const int decisions[] = {
        XGS_POLICY_STOP_AND_COPY, XGS_POLICY_CONTINUE_PRECOPY,
    };
    unsigned int i;

    for ( i = 0; i < sizeof(decisions) / sizeof(*decisions); i++ )
    {
        resize(4096);
        memset(&f->log, 0, sizeof(f->log));
        f->wl.dflt = 100;
        f->log.inner = inner_stop_then;
        f->log.param = decisions[i] + 1;
        f->cbs.precopy_policy_batches = 1;
        run(f, __func__);

        check_completed(f);
        assert_int_equal(f->log.n, 4);      /* before, and 3 mid-round */
        check_call(&f->log.call[3], 0, -1, decisions[i]);
        assert_int_equal(f->log.call[3].stats.round_remaining, 1024);
        assert_int_equal(fake.sent_in_round[0], 4096);
        assert_int_equal(fake.sent_stopcopy, 100);
    }
}

/* An invalid decision mid-round is an error too. */
static void test_midround_invalid(void **state)
{
    struct fixture *f = *state;

    run_midround(f, __func__, 4096, (struct workload){ .dflt = 100,
                 .stride = 37 }, 1, 2, 5);

    check_aborted(f, EINVAL);
    assert_int_equal(f->log.n, 3);
    assert_int_equal(fake.pages_sent, 2048);
}

/* The stream breaks after a mid-round consultation, in the first round. */
static void test_midround_write_failure(void **state)
{
    struct fixture *f = *state;

    resize(4096);
    f->wl.dflt = 100;
    f->cbs.precopy_policy_batches = 1;
    fake.fail_write_on = 3;
    run(f, __func__);

    check_aborted(f, EIO);
    assert_int_equal(f->log.n, 3);          /* before, and 2 mid-round */
    assert_int_equal(fake.pages_sent, 2048);
    assert_int_equal(fake.cleans, 0);
}

/* Rate limit: every 2 batches of 8, and never after the last batch. */
static void test_midround_rate_limit(void **state)
{
    struct fixture *f = *state;
    unsigned int i;

    resize(8192);
    f->wl.dflt = 10;
    f->cbs.precopy_policy_batches = 2;
    run(f, __func__);

    check_completed(f);
    assert_int_equal(f->log.n, 1 + 3 + 2);
    for ( i = 1; i <= 3; i++ )
    {
        assert_true(is_midround(&f->log.call[i]));
        assert_int_equal(f->log.call[i].stats.round_remaining,
                         8192 - 2048 * i);
    }
    assert_false(is_midround(&f->log.call[4]));
    check_call(&f->log.call[5], 1, 10, XGS_POLICY_STOP_AND_COPY);
}
#endif /* TEST_HAVE_MIDROUND */

#ifdef TEST_HAVE_ROUND_DIRTIED
/*
 * While the policy decides, the guest runs: it writes 9 pages it has not
 * written before, and pfn 4095 again.
 */
static int inner_guest_runs(struct policy_log *log, struct precopy_stats s)
{
    unsigned int i;

    for ( i = 0; i < 9; i++ )
        fake_guest_write(&fake, 3100 + 9 * log->n + i);
    fake_guest_write(&fake, 4095);
    return inner_default(log, s);
}

/*
 * During a round and after it, the policy is told how many pages the
 * guest dirtied since the round began, each page once, from log-dirty
 * mode's count (one PEEK without a bitmap a consultation); unknown (-1)
 * before a round and in the first round, which follows no CLEAN.
 */
static void test_round_dirtied(void **state)
{
    struct fixture *f = *state;
    unsigned int i, b = 0, peeks = 0, rounds_seen = 0;
    const struct policy_call *c;

    resize(4096);
    f->wl = (struct workload){ .writes = { 3000 }, .nr_writes = 1,
                               .dflt = 40 };
    f->log.inner = inner_guest_runs;
    f->cbs.precopy_policy_batches = 1;
    run(f, __func__);

    check_completed(f);
    for ( i = 0; i < f->log.n; i++ )
    {
        c = &f->log.call[i];
        if ( c->stats.dirty_count >= 0 && !c->stats.round_remaining )
        {
            b = i;                    /* before a round */
            assert_int_equal(c->stats.round_dirtied, -1);
        }
        else if ( !c->stats.iteration ||
                  (!c->stats.round_remaining && c->stats.iteration == 1) )
            assert_int_equal(c->stats.round_dirtied, -1);  /* round 0 */
        else
        {
            /* 9 new pages a consultation since the one before the
             * round, and pfn 4095 once. */
            assert_int_equal(c->stats.round_dirtied, 9 * (i - b) + 1);
            peeks++;
            rounds_seen |= 1u << (c->stats.iteration -
                                  !c->stats.round_remaining);
        }
    }
    /* Round 1 (3000 pages: during it and after), and later ones. */
    assert_true(peeks >= 3);
    assert_true(rounds_seen & 2);
    assert_true(rounds_seen & 4);
    assert_int_equal(fake.count_peeks, peeks);
}
#endif /* TEST_HAVE_ROUND_DIRTIED */

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_default_busy_guest),
        T(test_default_quiet_guest),
        T(test_default_converging_guest),
        T(test_logdirty_failure),
        T(test_write_failure_midround),
        T(test_logdirty_enable_failure),
        T(test_suspend_failure),
        T(test_write_failure_later_round),
#ifdef TEST_HAVE_OFF_ERROR
        T(test_logdirty_off_failure),
#endif
        T(test_nonlive_save),
#ifdef TEST_HAVE_DECISION_CHECKS
        T(test_abort_before_first_round),
        T(test_abort_after_round),
        T(test_abort_before_later_round),
        T(test_invalid_decision),
#endif
#ifdef TEST_HAVE_ROUND_STATS
        T(test_stats_count_pages_sent),
#endif
#ifdef TEST_HAVE_MIDROUND
        T(test_midround_continue_is_transparent),
        T(test_midround_stop_first_round),
        T(test_midround_stop_later_round),
        T(test_midround_abort),
        T(test_midround_last_round_abort),
        T(test_midround_last_round_carries_on),
        T(test_midround_invalid),
        T(test_midround_rate_limit),
        T(test_midround_write_failure),
#endif
#ifdef TEST_HAVE_ROUND_DIRTIED
        T(test_round_dirtied),
#endif
#undef T
    };

    return cmocka_run_group_tests_name("xg_sr_save precopy loop", tests,
                                       NULL, NULL);
}
#endif /* !FAKE_XEN_NO_POLICY */
