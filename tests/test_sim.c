/*
 * test_sim.c - tests of the precopy policy simulator (tools/precopy-sim)
 * on tiny traces whose answers can be worked out by hand: conservation
 * (every page dirtied gets sent), the oracle beats or ties every policy,
 * the same seed gives the same result, and bad workload files get an
 * error naming the file and the line.
 *
 * Built only against trees with the policy engine
 * (tools/libs/light/libxl_precopy_policy.c).
 */
#include "xg_sr_common.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake_xen.h"
#include "sim.h"

/* 1024 pages a second: 1024 * 4096 * 8 bit. */
#define LINK_1K "33.554432"

static struct sim_oracle oracle;

static void load(struct sim_workload *wl, const char *text)
{
    char err[512];

    if ( sim_workload_parse(wl, "test.wl", text, err, sizeof(err)) )
        fail_msg("%s", err);
}

static void config(struct sim_config *c, const struct sim_workload *wl,
                   enum sim_policy p, double sla)
{
    sim_config_default(c);
    c->wl = wl;
    c->policy = p;
    c->sla_ms = sla;
    c->batches = 1;
}

/*
 * A guest which writes nothing: 4096 pages, a link of 1024 pages/s, 5 ms
 * of switchover.  Mid-round in round 0 (after 1, 2, 3 batches) stopping
 * leaves 3072, 2048, 1024 pages: 3005, 2005, 1005 ms.  After round 0
 * nothing is dirty: 5 ms.  Every stop point sends 4096 pages.
 */
static const char quiet[] =
    "name = quiet\nguest_mib = 16\nlink_mbit = " LINK_1K "\n"
    "switchover_ms = 5\n[phase]\ndist = uniform\nwss_mib = 1\n"
    "write_mib_s = 0\n";

static void test_quiet_by_hand(void **state)
{
    struct sim_workload wl;
    struct sim_config c;
    struct sim_choice ch;
    struct sim_result r;
    unsigned int i;

    load(&wl, quiet);
    config(&c, &wl, SIM_P_ORACLE, 1000);
    assert_int_equal(sim_oracle(&c, &oracle), 0);
    assert_true(oracle.nr >= 4);
    for ( i = 0; i < 3; i++ )
    {
        assert_int_equal(oracle.stop[i].pages_sent, 4096);
        assert_true(fabs(oracle.stop[i].downtime_ms -
                         (3005 - 1000.0 * i)) < 1e-6);
    }
    for ( ; i < oracle.nr; i++ )
    {
        assert_int_equal(oracle.stop[i].pages_sent, 4096);
        assert_true(fabs(oracle.stop[i].downtime_ms - 5) < 1e-6);
    }
    sim_oracle_choose(&oracle, 1000, &ch);
    assert_true(ch.feasible);
    assert_true(fabs(oracle.stop[ch.fewest].downtime_ms - 5) < 1e-6);
    sim_oracle_choose(&oracle, 4, &ch);
    assert_false(ch.feasible);
    assert_true(fabs(oracle.stop[ch.min_dt].downtime_ms - 5) < 1e-6);

    /* Xen's rule: one round, then fewer than 50 dirty pages: stop. */
    config(&c, &wl, SIM_P_XEN, 1000);
    assert_int_equal(sim_run(&c, &r), 0);
    assert_int_equal(r.rc, 0);
    assert_int_equal(r.rounds, 1);
    assert_int_equal(r.pages_sent, 4096);
    assert_int_equal(r.stopcopy_pages, 0);
    assert_true(fabs(r.downtime_ms - 5) < 1e-6);
    assert_true(fabs(r.total_s - 4.005) < 1e-9);
}

/*
 * 2048 pages, a link of 1024 pages/s, the guest writing pfns 0..511 in
 * turn at 256 pages/s (1 MiB/s), no switchover cost:
 *   round 0, batch 1 (t 0-1 s): pfns 0-255 written again;
 *     a stop here leaves 1024 + 256 pages: 1250 ms, 2304 pages;
 *   batch 2 (t 1-2 s): pfns 256-511; after round 0: 512 pages, 500 ms;
 *   round 1 (512 pages, t 2-2.5 s): 128 written; 125 ms, 2688 pages;
 *   round 2 (128 pages, 0.125 s): 32 written; 31.25 ms, 2720 pages.
 */
static const char stream[] =
    "# a hand-checkable stream\n"
    "name = stream\nguest_mib = 8\nlink_mbit = " LINK_1K "\n"
    "[phase]\ndist = seq\nwss_mib = 2\nwrite_mib_s = 1\n";

static bool near(double a, double b, double tol)
{
    return fabs(a - b) <= tol;
}

static void test_stream_by_hand(void **state)
{
    struct sim_workload wl;
    struct sim_config c;
    struct sim_choice ch;
    struct sim_result r;
    static const struct { double ms; unsigned long pages; } want[] = {
        { 1250, 2304 }, { 500, 2560 }, { 125, 2688 }, { 31.25, 2720 },
    };
    unsigned int i;

    load(&wl, stream);
    config(&c, &wl, SIM_P_ORACLE, 200);
    assert_int_equal(sim_oracle(&c, &oracle), 0);
    assert_true(oracle.nr > 4);
    for ( i = 0; i < 4; i++ )
    {
        assert_true(near(oracle.stop[i].pages_sent, want[i].pages, 2));
        assert_true(near(oracle.stop[i].downtime_ms, want[i].ms, 2));
    }
    /* SLA 200 ms: fewest pages is after round 1; the minimum downtime is
     * later still. */
    sim_oracle_choose(&oracle, 200, &ch);
    assert_true(ch.feasible);
    assert_int_equal(ch.fewest, 2);
    assert_true(oracle.stop[ch.min_dt].downtime_ms < 31.25);

    /* Every stop point, replayed through the real loop to the end,
     * costs what the oracle said, and leaves nothing stale. */
    for ( i = 0; i < oracle.nr; i++ )
    {
        if ( sim_oracle_verify(&c, &oracle, i, &r) )
            fail_msg("stop point %u: oracle %lu pages %.3f ms, replay %lu "
                     "pages %.3f ms rc %d stale %lu", i,
                     oracle.stop[i].pages_sent, oracle.stop[i].downtime_ms,
                     r.pages_sent, r.downtime_ms, r.rc, r.stale);
    }
}

/* Tiny, busier workloads for the properties below. */
static const char *const tiny[] = {
    "name = t-uniform\nguest_mib = 16\nlink_mbit = 100\nswitchover_ms = 3\n"
    "[phase]\ndist = uniform\nwss_mib = 4\nwrite_x_link = 0.7\n"
    "jitter_pct = 30\n",
    "name = t-zipf\nguest_mib = 16\nlink_mbit = 100\n"
    "[phase]\ndist = zipf\nwss_pct = 50\nwrite_x_link = 2\n",
    "name = t-stream\nguest_mib = 16\nlink_mbit = 100\n"
    "[phase]\ndist = seq\nwss_pct = 50\nwrite_x_link = 1.5\n",
    "name = t-phases\nguest_mib = 16\nlink_mbit = 100\ncycle_s = 1\n"
    "link_drop_at_s = 0.8\nlink_drop_mbit = 50\n"
    "[phase]\nstart_s = 0\ndist = uniform\nwss_mib = 1\nwrite_mib_s = 1\n"
    "[phase]\nstart_s = 0.5\ndist = uniform\nwss_mib = 8\n"
    "write_x_link = 0.9\ndrift_mib_s = 4\n",
};
static const enum sim_policy policies[] = {
    SIM_P_XEN, SIM_P_QEMU, SIM_P_ENGINE, SIM_P_ENGINE_ABORT,
};
static const double slas[] = { 20, 100, 1000 };

/* Conservation: every page the guest wrote reaches the destination at its
 * latest version, whatever the policy; and nothing is sent twice in the
 * stop-and-copy phase. */
static void test_conservation(void **state)
{
    struct sim_workload wl;
    struct sim_config c;
    struct sim_result r;
    unsigned int w, p;

    for ( w = 0; w < sizeof(tiny) / sizeof(tiny[0]); w++ )
    {
        load(&wl, tiny[w]);
        for ( p = 0; p < sizeof(policies) / sizeof(policies[0]); p++ )
        {
            config(&c, &wl, policies[p], 100);
            c.seed = 3;
            assert_int_equal(sim_run(&c, &r), 0);
            if ( r.aborted )
                continue;
            assert_int_equal(r.rc, 0);
            assert_int_equal(r.stale, 0);
            assert_true(r.dirtied > 0);
            assert_true(r.pages_sent >= r.guest_pages);
            assert_true(r.stopcopy_pages <= r.guest_pages);
        }
    }
}

/* The oracle beats or ties every policy: among runs meeting the SLA, none
 * sends fewer pages than the oracle's fewest; no run has a downtime below
 * its minimum; a policy meeting the SLA means the oracle calls it
 * feasible. */
static void test_oracle_beats_policies(void **state)
{
    struct sim_workload wl;
    struct sim_config c;
    struct sim_choice ch;
    struct sim_result r;
    unsigned int w, p, s, seed;

    for ( w = 0; w < sizeof(tiny) / sizeof(tiny[0]); w++ )
    {
        load(&wl, tiny[w]);
        for ( seed = 1; seed <= 3; seed++ )
        {
            config(&c, &wl, SIM_P_ORACLE, 0);
            c.seed = seed;
            assert_int_equal(sim_oracle(&c, &oracle), 0);
            for ( s = 0; s < sizeof(slas) / sizeof(slas[0]); s++ )
            {
                sim_oracle_choose(&oracle, slas[s], &ch);
                for ( p = 0; p < sizeof(policies) / sizeof(policies[0]); p++ )
                {
                    config(&c, &wl, policies[p], slas[s]);
                    c.seed = seed;
                    assert_int_equal(sim_run(&c, &r), 0);
                    if ( r.aborted )
                        continue;
                    assert_true(r.downtime_ms + 1e-9 >=
                                oracle.stop[ch.min_dt].downtime_ms);
                    if ( r.downtime_ms <= slas[s] )
                    {
                        assert_true(ch.feasible);
                        assert_true(r.pages_sent >=
                                    oracle.stop[ch.fewest].pages_sent);
                    }
                }
            }
        }
    }
}

/* Same seed, same result; another seed, another trace. */
static void test_deterministic(void **state)
{
    struct sim_workload wl;
    struct sim_config c;
    struct sim_result a, b;
    unsigned int p;

    load(&wl, tiny[0]);
    for ( p = 0; p < sizeof(policies) / sizeof(policies[0]); p++ )
    {
        config(&c, &wl, policies[p], 100);
        c.seed = 42;
        assert_int_equal(sim_run(&c, &a), 0);
        assert_int_equal(sim_run(&c, &b), 0);
        assert_memory_equal(&a, &b, sizeof(a));
    }
    c.seed = 43;
    assert_int_equal(sim_run(&c, &b), 0);
    assert_true(a.dirtied != b.dirtied || a.pages_sent != b.pages_sent ||
                a.downtime_ms != b.downtime_ms);
}

/* Bad workload files: the error names the file and the line. */
static void expect_error(const char *text, const char *want)
{
    struct sim_workload wl;
    char err[512];

    assert_int_equal(sim_workload_parse(&wl, "bad.wl", text, err,
                                        sizeof(err)), -1);
    if ( !strstr(err, want) )
        fail_msg("error '%s' does not contain '%s'", err, want);
}

static void test_bad_files(void **state)
{
    expect_error("name = x\nguest_mib = 1\nlink_mbit = 1\nfoo = 3\n",
                 "bad.wl:4: unknown key 'foo'");
    expect_error("name = x\nguest_mib = 1\nlink_mbit = 1\n[phase]\n"
                 "dist = uniform\nwss_mib = 1\nwrite_mib_s = -2\n",
                 "bad.wl:7: 'write_mib_s' must not be negative (-2)");
    expect_error("name = x\nguest_mib = 1\nlink_mbit = 1\n\n[phase]\n"
                 "wss_mib = 1\nwrite_mib_s = 2\n",
                 "bad.wl:5: [phase] 1: missing field 'dist'");
    expect_error("name = x\nlink_mbit = 1\n[phase]\ndist = seq\n"
                 "wss_mib = 1\nwrite_mib_s = 2\n",
                 "bad.wl:6: missing field 'guest_mib'");
    expect_error("name = x\nguest_mib = 1\nlink_mbit = 1\n[phase]\n"
                 "dist = normal\n", "bad.wl:5: 'dist' must be uniform");
    expect_error("name = x\nguest_mib = 1\nlink_mbit = 1\n[phase]\n"
                 "dist = seq\nwss_mib = 1\nwrite_mib_s = fast\n",
                 "bad.wl:7: 'write_mib_s' is not a number: 'fast'");
    expect_error("name = x\nguest_mib = 1\nlink_mbit = 1\n", "bad.wl:3: no [phase]");
}

/* The shipped workload files load. */
static void test_shipped_files(void **state)
{
    static const char *const names[] = {
        "idle", "web", "game", "db", "streamer", "hpc", "bursty", "drift",
        "linkdrop",
    };
    struct sim_workload wl;
    char path[512], err[512];
    unsigned int i;

    for ( i = 0; i < sizeof(names) / sizeof(names[0]); i++ )
    {
        snprintf(path, sizeof(path), "%s/%s.wl", SIM_WORKLOADS, names[i]);
        if ( sim_workload_load(&wl, path, err, sizeof(err)) )
            fail_msg("%s", err);
        assert_string_equal(wl.name, names[i]);
    }
    assert_int_equal(sim_workload_load(&wl, "/nonexistent.wl", err,
                                       sizeof(err)), -1);
    assert_non_null(strstr(err, "/nonexistent.wl: "));
}

/*
 * The workload model is unchanged: each shipped file, driven alone (no
 * loop) for 4 s of guest time in steps of 3.7 ms, writes the same pages as
 * the model of commit 4144914 did (before writers, link schedules and
 * unpopulated ranges): the same number of writes, of distinct pfns, and
 * the same version of every pfn.  Since the loop only sees the model
 * through those writes, today's files give the same results.
 */
static void test_model_unchanged(void **state)
{
    static const struct {
        const char *name;
        uint64_t seed;
        unsigned long writes, distinct;
        uint64_t hash;
    } want[] = {
        { "idle", 1, 52, 51, 0x3f72003a3f7eed17ULL },
        { "idle", 2, 50, 48, 0xc03f24d207b37d53ULL },
        { "web", 1, 738337, 12286, 0xd7b2f4666e5372aeULL },
        { "web", 2, 730885, 12284, 0xe32709e24686ecceULL },
        { "game", 1, 367689, 1536, 0xb21f2c300e43aa84ULL },
        { "game", 2, 365826, 1536, 0x5acc7b393f497ea1ULL },
        { "db", 1, 1548406, 74550, 0x9962a09cba96c8efULL },
        { "db", 2, 1532778, 74480, 0x2a2ca82d7d2a66b7ULL },
        { "streamer", 1, 1831054, 65536, 0xbb7571884e66c4d3ULL },
        { "streamer", 2, 1831054, 65536, 0xbb7571884e66c4d3ULL },
        { "hpc", 1, 1100851, 52428, 0x5624c88d498eb62eULL },
        { "hpc", 2, 1098056, 52428, 0x8444fb5ce81e7c17ULL },
        { "bursty", 1, 282540, 51975, 0xdcb85d9b0db14defULL },
        { "bursty", 2, 282540, 51976, 0xacec26fa78a18471ULL },
        { "drift", 1, 2064542, 80825, 0x57fe284d679003edULL },
        { "drift", 2, 2043704, 80733, 0xc3faa512cd7899cbULL },
        { "linkdrop", 1, 1548406, 74567, 0xb946eddd6cde0309ULL },
        { "linkdrop", 2, 1532778, 74597, 0xb66b2585ed7be0f9ULL },
    };
    struct sim_workload wl;
    struct sim_config c;
    char path[512], err[512];
    unsigned long writes, distinct;
    uint64_t hash;
    unsigned int i, bad = 0;

    for ( i = 0; i < sizeof(want) / sizeof(want[0]); i++ )
    {
        snprintf(path, sizeof(path), "%s/%s.wl", SIM_WORKLOADS, want[i].name);
        if ( sim_workload_load(&wl, path, err, sizeof(err)) )
            fail_msg("%s", err);
        config(&c, &wl, SIM_P_ENGINE, 100);
        c.seed = want[i].seed;
        sim_model_drive(&c, 4, 0.0037, &writes, &distinct, &hash);
        if ( writes != want[i].writes || distinct != want[i].distinct ||
             hash != want[i].hash )
        {
            print_message("        { \"%s\", %"PRIu64", %lu, %lu, "
                          "0x%016"PRIx64"ULL }, /* want %lu %lu 0x%016"
                          PRIx64" */\n", want[i].name, want[i].seed, writes,
                          distinct, hash, want[i].writes, want[i].distinct,
                          want[i].hash);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quiet_by_hand),
        cmocka_unit_test(test_stream_by_hand),
        cmocka_unit_test(test_conservation),
        cmocka_unit_test(test_oracle_beats_policies),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_shipped_files),
        cmocka_unit_test(test_model_unchanged),
    };

    return cmocka_run_group_tests_name("precopy-sim", tests, NULL, NULL);
}
