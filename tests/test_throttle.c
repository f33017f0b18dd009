/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * Auto-converge's throttle, as libxl applies it: the tree's own
 * libxl_precopy_throttle.c and libxl_precopy_policy.c, on fake_libxl (a
 * domain's scheduler and cap, and xenstore).
 *
 * libxl_dom_save.c lifts the throttle, with libxl__precopy_throttle_lift(),
 * on every path by which precopy ends: before the guest is suspended when
 * the policy stops, at an abort, and in libxl__precopy_control_fini(),
 * which every end of the save goes through (an error, libxl-save-helper
 * gone); the save of a process which died is restored, with
 * libxl__precopy_throttle_restore(), by the next save or by
 * LIBXL_PRECOPY_COMMAND_UNTHROTTLE.  Each case here is one such path: the
 * throttle the engine asked for at each consultation, then how precopy
 * ended, and the cap and record the domain is left with.
 */
#include "libxl_osdeps.h" /* before any other header: _GNU_SOURCE */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fake_libxl.h"

#define DOMID 7
#define RECORD "/libxl/7/precopy-throttle"

enum end {
    END_LIFT,           /* stop, abort, error, helper gone: lift */
    END_DIED,           /* the process died: the next one restores */
    END_DIED_CHANGED,   /* died, and the cap was set by hand since */
};

struct path_case {
    const char *name;
    libxl_scheduler sched;
    int cap_own;
    unsigned int vcpus;
    uint32_t max_throttle;
    bool fail_set_at_2nd;       /* setting the second step's cap fails */
    uint32_t steps[4];          /* throttle_pct per consultation, ended
                                 * by UINT32_MAX */
    int caps[4];                /* the domain's cap after each */
    enum end end;
    int cap_end;                /* the cap at the end */
};

static const struct path_case path_cases[] = {
    { "credit2, no cap, stop after a step", LIBXL_SCHEDULER_CREDIT2, 0, 1,
      0, false, { 0, 50, UINT32_MAX }, { 0, 50 }, END_LIFT, 0 },
    { "credit2, own cap 60, two steps, abort", LIBXL_SCHEDULER_CREDIT2, 60,
      1, 0, false, { 50, 99, UINT32_MAX }, { 30, 1 }, END_LIFT, 60 },
    { "credit, 4 vcpus, error mid-step", LIBXL_SCHEDULER_CREDIT, 0, 4, 0,
      false, { 25, UINT32_MAX }, { 300 }, END_LIFT, 0 },
    { "engine lifts the throttle itself", LIBXL_SCHEDULER_CREDIT2, 80, 2,
      0, false, { 50, 0, UINT32_MAX }, { 40, 80 }, END_LIFT, 80 },
    { "setting a cap fails: no more throttling", LIBXL_SCHEDULER_CREDIT2,
      60, 1, 0, true, { 50, 75, 90, UINT32_MAX }, { 30, 60, 60 }, END_LIFT,
      60 },
    { "xl killed while throttled", LIBXL_SCHEDULER_CREDIT2, 60, 1, 0,
      false, { 50, 99, UINT32_MAX }, { 30, 1 }, END_DIED, 60 },
    { "xl killed, credit, no cap", LIBXL_SCHEDULER_CREDIT, 0, 2, 0, false,
      { 10, UINT32_MAX }, { 180 }, END_DIED, 0 },
    { "xl killed, then a cap set by hand", LIBXL_SCHEDULER_CREDIT2, 60, 1,
      0, false, { 50, UINT32_MAX }, { 30 }, END_DIED_CHANGED, 25 },
    { "null scheduler: nothing set", LIBXL_SCHEDULER_NULL, 0, 1, 0, false,
      { 50, 99, UINT32_MAX }, { 0, 0 }, END_LIFT, 0 },
};

static libxl_domain_precopy_params params;
static libxl__domain_save_state dss;
static libxl_dominfo info;

static int setup(libxl_scheduler sched, int cap, unsigned int vcpus,
                 uint32_t max_throttle, uint32_t downtime_ms)
{
    fake_libxl_reset(sched, cap);
    memset(&params, 0, sizeof(params));
    params.auto_converge = true;
    params.downtime_ms = downtime_ms;
    params.max_throttle_pct = max_throttle;
    memset(&dss, 0, sizeof(dss));
    dss.domid = DOMID;
    dss.precopy = &params;
    libxl__precopy_state_init(&dss.precopy_state);
    memset(&info, 0, sizeof(info));
    info.vcpu_online = vcpus;
    return libxl__precopy_throttle_setup(fake_gc(), &dss, &info);
}

/* The record, as the three caps it holds, or "" if there is none. */
static const char *record(void)
{
    const char *r = fake_xs_get(RECORD);

    return r ? r : "";
}

static void test_paths(void **state)
{
    unsigned int i, j;

    for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
        const struct path_case *c = &path_cases[i];
        bool found = false;
        int rc;

        rc = setup(c->sched, c->cap_own, c->vcpus, c->max_throttle, 300);
        if (rc)
            fail_msg("%s: setup: rc %d", c->name, rc);
        for (j = 0; c->steps[j] != UINT32_MAX; j++) {
            fake_libxl.fail_set = c->fail_set_at_2nd && j == 1;
            dss.precopy_state.throttle_pct = c->steps[j];
            dss.precopy_state.throttle_reason = LIBXL__PRECOPY_T_RAISED;
            libxl__precopy_throttle_apply(fake_gc(), &dss);
            if (fake_libxl.cap != c->caps[j])
                fail_msg("%s: step %u (throttle %u%%): cap %d, not %d\n%s",
                         c->name, j, c->steps[j], fake_libxl.cap,
                         c->caps[j], fake_libxl.log);
            /* A record while, and only while, a cap not its own is on. */
            if ((fake_libxl.cap != c->cap_own) != (*record() != 0))
                fail_msg("%s: step %u: cap %d, record '%s'", c->name, j,
                         fake_libxl.cap, record());
        }
        switch (c->end) {
        case END_LIFT:
            libxl__precopy_throttle_lift(fake_gc(), &dss);
            /* (lifting twice, as fini does after the suspend's, is
             * harmless) */
            libxl__precopy_throttle_lift(fake_gc(), &dss);
            break;
        case END_DIED_CHANGED:
            fake_libxl.cap = c->cap_end;
            /* fall through */
        case END_DIED:
            /* Nothing of dss is left: only the record. */
            if (!*record())
                fail_msg("%s: no record left by the dead process",
                         c->name);
            rc = libxl__precopy_throttle_restore(fake_gc(), DOMID, &found);
            if (rc || !found)
                fail_msg("%s: restore: rc %d, found %d", c->name, rc,
                         found);
            break;
        }
        if (fake_libxl.cap != c->cap_end || *record())
            fail_msg("%s: at the end cap %d (not %d), record '%s'\n%s",
                     c->name, fake_libxl.cap, c->cap_end, record(),
                     fake_libxl.log);
        /* Nothing more to restore afterwards. */
        rc = libxl__precopy_throttle_restore(fake_gc(), DOMID, &found);
        if (rc || found)
            fail_msg("%s: a second restore: rc %d, found %d", c->name, rc,
                     found);
    }
    fake_libxl_reset(LIBXL_SCHEDULER_CREDIT2, 0);
}

/* Without a cap to set, one line says so, and nothing is throttled. */
static void test_setup(void **state)
{
    assert_int_equal(setup(LIBXL_SCHEDULER_NULL, 0, 1, 0, 300), 0);
    assert_false(dss.precopy_params.auto_converge);
    assert_int_equal(fake_libxl.warnings, 1);
    assert_non_null(strstr(fake_libxl.log, "the domain's scheduler, null, "
                           "has no cap: not throttling\n"));
    assert_int_equal(setup(LIBXL_SCHEDULER_RTDS, 0, 1, 0, 300), 0);
    assert_false(dss.precopy_params.auto_converge);
    assert_int_equal(fake_libxl.warnings, 1);

    /* No downtime target: nothing to throttle towards. */
    assert_int_equal(setup(LIBXL_SCHEDULER_CREDIT2, 0, 1, 0, 0), 0);
    assert_false(dss.precopy_params.auto_converge);
    assert_int_equal(fake_libxl.warnings, 1);

    /* The bound: at most 99 (a cap of 0 is no cap). */
    assert_int_equal(setup(LIBXL_SCHEDULER_CREDIT2, 0, 1, 99, 300), 0);
    assert_true(dss.precopy_params.auto_converge);
    assert_int_equal(dss.precopy_params.max_throttle_pct, 99);
    assert_int_equal(setup(LIBXL_SCHEDULER_CREDIT2, 0, 1, 100, 300),
                     ERROR_INVAL);
    assert_int_equal(fake_libxl.errors, 1);

    /* The scheduler's parameters cannot be read: the save fails. */
    fake_libxl_reset(LIBXL_SCHEDULER_CREDIT2, 0);
    memset(&dss, 0, sizeof(dss));
    dss.domid = DOMID;
    dss.precopy = &params;
    params.max_throttle_pct = 0;
    params.downtime_ms = 300;
    fake_libxl.fail_get = true;
    assert_int_not_equal(libxl__precopy_throttle_setup(fake_gc(), &dss,
                                                       &info), 0);
    assert_false(dss.precopy_params.auto_converge);
    fake_libxl_reset(LIBXL_SCHEDULER_CREDIT2, 0);
}

/* The record a dead process left, as the next save or unthrottle finds
 * it. */
static void test_restore(void **state)
{
    static const struct {
        const char *name, *record;
        libxl_scheduler sched;
        int cap_now;
        int rc;
        bool found, kept;
        int cap_end;
    } c[] = {
        { "none", NULL, LIBXL_SCHEDULER_CREDIT2, 0, 0, false, false, 0 },
        { "ours", "60 30 1", LIBXL_SCHEDULER_CREDIT2, 1, 0, true, false,
          60 },
        { "died before setting its cap", "60 30 1", LIBXL_SCHEDULER_CREDIT2,
          30, 0, true, false, 60 },
        { "died before its first cap", "60 60 30", LIBXL_SCHEDULER_CREDIT2,
          60, 0, true, false, 60 },
        { "set by hand since", "60 30 1", LIBXL_SCHEDULER_CREDIT2, 45, 0,
          true, false, 45 },
        { "moved to a pool without caps", "60 30 1", LIBXL_SCHEDULER_NULL,
          0, 0, true, false, 0 },
        { "not a record", "60 thirty 1", LIBXL_SCHEDULER_CREDIT2, 1, 0,
          true, false, 1 },
        { "credit", "0 0 50", LIBXL_SCHEDULER_CREDIT, 50, 0, true, false,
          0 },
    };
    unsigned int i;

    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        bool found;
        int rc;

        fake_libxl_reset(c[i].sched, c[i].cap_now);
        if (c[i].record)
            fake_xs_set(RECORD, c[i].record);
        rc = libxl__precopy_throttle_restore(fake_gc(), DOMID, &found);
        if (rc != c[i].rc || found != c[i].found ||
            (*record() != 0) != c[i].kept || fake_libxl.cap != c[i].cap_end)
            fail_msg("%s: rc %d found %d record '%s' cap %d\n%s",
                     c[i].name, rc, found, record(), fake_libxl.cap,
                     fake_libxl.log);
    }

    /* The cap cannot be set back: the record stays, for a later try. */
    fake_libxl_reset(LIBXL_SCHEDULER_CREDIT2, 1);
    fake_xs_set(RECORD, "60 30 1");
    fake_libxl.fail_set = 1;
    assert_int_not_equal(libxl__precopy_throttle_restore(fake_gc(), DOMID,
                                                         &(bool){0}), 0);
    assert_string_equal(record(), "60 30 1");
    assert_int_equal(fake_libxl.cap, 1);
    assert_int_equal(libxl__precopy_throttle_restore(fake_gc(), DOMID,
                                                     &(bool){0}), 0);
    assert_int_equal(fake_libxl.cap, 60);
    assert_string_equal(record(), "");

    /* A save whose lift fails (the scheduler refuses every cap): the
     * record stays for the next save or unthrottle, and a later lift,
     * as libxl__precopy_control_fini()'s after the suspend's, retries. */
    assert_int_equal(setup(LIBXL_SCHEDULER_CREDIT2, 60, 1, 0, 300), 0);
    dss.precopy_state.throttle_pct = 50;
    libxl__precopy_throttle_apply(fake_gc(), &dss);
    assert_int_equal(fake_libxl.cap, 30);
    fake_libxl.fail_set = 1;
    libxl__precopy_throttle_lift(fake_gc(), &dss);
    assert_int_equal(fake_libxl.cap, 30);
    assert_string_equal(record(), "60 60 30");
    libxl__precopy_throttle_lift(fake_gc(), &dss);
    assert_int_equal(fake_libxl.cap, 60);
    assert_string_equal(record(), "");

    /* xenstore cannot be read: an error, nothing changed. */
    fake_libxl_reset(LIBXL_SCHEDULER_CREDIT2, 1);
    fake_xs_set(RECORD, "60 30 1");
    fake_libxl.fail_xs_read = true;
    assert_int_not_equal(libxl__precopy_throttle_restore(fake_gc(), DOMID,
                                                         &(bool){0}), 0);
    assert_int_equal(fake_libxl.cap, 1);
    fake_libxl_reset(LIBXL_SCHEDULER_CREDIT2, 0);
}

/* The configuration retrieved while the throttle is on has the domain's
 * own cap: a migration's receiver does not start it throttled. */
static void test_config(void **state)
{
    libxl_domain_sched_params sp;

    fake_libxl_reset(LIBXL_SCHEDULER_CREDIT2, 1);
    fake_xs_set(RECORD, "60 30 1");
    libxl_domain_sched_params_get(NULL, DOMID, &sp);
    libxl__precopy_throttle_config(fake_gc(), DOMID, &sp);
    assert_int_equal(sp.cap, 60);

    /* A cap set by hand since is the domain's. */
    fake_libxl.cap = 45;
    libxl_domain_sched_params_get(NULL, DOMID, &sp);
    libxl__precopy_throttle_config(fake_gc(), DOMID, &sp);
    assert_int_equal(sp.cap, 45);

    /* No record, or a bad one: the cap as it is. */
    fake_xs_set(RECORD, "garbage");
    fake_libxl.cap = 1;
    libxl_domain_sched_params_get(NULL, DOMID, &sp);
    libxl__precopy_throttle_config(fake_gc(), DOMID, &sp);
    assert_int_equal(sp.cap, 1);
    fake_libxl_reset(LIBXL_SCHEDULER_CREDIT2, 1);
    libxl_domain_sched_params_get(NULL, DOMID, &sp);
    libxl__precopy_throttle_config(fake_gc(), DOMID, &sp);
    assert_int_equal(sp.cap, 1);

    /* Another scheduler's parameters are left alone. */
    fake_libxl_reset(LIBXL_SCHEDULER_NULL, 0);
    fake_xs_set(RECORD, "60 30 1");
    libxl_domain_sched_params_get(NULL, DOMID, &sp);
    libxl__precopy_throttle_config(fake_gc(), DOMID, &sp);
    assert_int_equal(sp.cap, LIBXL_DOMAIN_SCHED_PARAM_CAP_DEFAULT);
    fake_libxl_reset(LIBXL_SCHEDULER_CREDIT2, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_setup),
        cmocka_unit_test(test_restore),
        cmocka_unit_test(test_config),
    };

    return cmocka_run_group_tests_name("precopy throttle", tests, NULL,
                                       NULL);
}
