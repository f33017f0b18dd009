/*
 * test_golden.c - the default precopy policy, before and after the series.
 *
 * The same scenarios are built against the unpatched tree (XEN_BASE) and
 * the patched one.  The unpatched build records one trace line per
 * scenario (--record FILE): pages per round, pages after suspend, every
 * consultation of the policy.  The patched build compares its own traces
 * with that file (GOLDEN_REF=FILE): with no policy set, the series must
 * not change a thing.
 *
 * Only the interface of the unpatched tree is used here.
 */
#include "xg_sr_common.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake_xen.h"
#include "scenarios.h"

struct golden {
    const char *name;
    unsigned long p2m_size;
    struct workload wl;
    unsigned long holes_from, holes_to;
    unsigned int fail_clean_on, fail_write_on;
    bool no_callback;            /* libxenguest's built-in policy */
};

static const struct golden scenarios[] = {
    { "busy", 1024, { .dflt = 100, .stride = 37 } },
    { "busy-nocb", 1024, { .dflt = 100, .stride = 37 }, .no_callback = true },
    { "quiet", 1024, { .dflt = 10, .stride = 37 } },
    { "idle", 1024, { .dflt = 0 } },
    { "converging", 1024, { .writes = { 500, 200, 60 }, .nr_writes = 3,
                            .dflt = 20, .stride = 101 } },
    { "threshold-49", 2048, { .dflt = 49, .stride = 3 } },
    { "threshold-50", 2048, { .dflt = 50, .stride = 3 } },
    { "everything-dirty", 3000, { .dflt = 3000 } },
    { "multi-batch", 5000, { .writes = { 2500, 1500 }, .nr_writes = 2,
                             .dflt = 1100, .stride = 777 } },
    { "holes", 1024, { .dflt = 150 }, 100, 150 },
    { "logdirty-fails", 1024, { .dflt = 100 }, .fail_clean_on = 3 },
    { "write-fails", 4096, { .dflt = 100 }, .fail_write_on = 3 },
};
#define NR_SCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

static struct policy_log log_;

/* Run scenario i, and describe it in buf. */
static void run_scenario(unsigned int i, char *buf, size_t sz)
{
    const struct golden *g = &scenarios[i];
    struct workload wl = g->wl;
    struct save_callbacks cbs = { 0 };
    unsigned long pfn;
    int rc, err;

    fake_init(g->p2m_size);
    fake.workload = workload_run;
    fake.opaque = &wl;
    fake.fail_clean_on = g->fail_clean_on;
    fake.fail_write_on = g->fail_write_on;
    for ( pfn = g->holes_from; pfn < g->holes_to; pfn++ )
        fake_set_hole(&fake, pfn);

    memset(&log_, 0, sizeof(log_));
    log_.inner = inner_default;
#ifndef FAKE_XEN_LIBXC /* before 4.10, the unpatched tree has no policy */
    if ( !g->no_callback )
    {
        /* The built-in default, observed through a pass-through. */
        cbs.precopy_policy = recording_policy;
        cbs.data = &log_;
    }
#endif

    rc = fake_domain_save(&cbs, true, &err);
    trace_line(buf, sz, g->name, rc, &log_);
    if ( rc )
        snprintf(buf + strlen(buf), sz - strlen(buf), " errno=%d", err);
    fake_fini();
}

static char *ref_lines[NR_SCENARIOS];

static void test_same_as_unpatched(void **state)
{
    unsigned int i = (uintptr_t)*state;
    char line[16384];

    run_scenario(i, line, sizeof(line));
    if ( !ref_lines[i] )
        fail_msg("no reference trace for scenario %s", scenarios[i].name);
    if ( strcmp(line, ref_lines[i]) )
        fail_msg("scenario %s differs from the unpatched tree:\n"
                 "  unpatched: %s\n  patched:   %s", scenarios[i].name,
                 ref_lines[i], line);
}

static int load_ref(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[16384];
    unsigned int i;

    if ( !f )
    {
        fprintf(stderr, "golden: cannot open %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    while ( fgets(line, sizeof(line), f) )
    {
        line[strcspn(line, "\n")] = 0;
        for ( i = 0; i < NR_SCENARIOS; i++ )
        {
            size_t n = strlen(scenarios[i].name);

            if ( !strncmp(line, scenarios[i].name, n) && line[n] == ' ' )
                ref_lines[i] = strdup(line);
        }
    }
    fclose(f);
    return 0;
}

int main(int argc, char **argv)
{
    struct CMUnitTest tests[NR_SCENARIOS];
    const char *ref = getenv("GOLDEN_REF");
    unsigned int i;
    char line[16384];

    if ( argc == 3 && !strcmp(argv[1], "--record") )
    {
        FILE *f = fopen(argv[2], "w");

        if ( !f )
        {
            perror(argv[2]);
            return 1;
        }
        for ( i = 0; i < NR_SCENARIOS; i++ )
        {
            run_scenario(i, line, sizeof(line));
            fprintf(f, "%s\n", line);
        }
        return fclose(f) ? 1 : 0;
    }

    for ( i = 0; i < NR_SCENARIOS; i++ )
    {
        tests[i] = (struct CMUnitTest)
            cmocka_unit_test_prestate(test_same_as_unpatched,
                                      (void *)(uintptr_t)i);
        tests[i].name = scenarios[i].name;
    }

    if ( !ref )
    {
        printf("golden: GOLDEN_REF not set (no unpatched tree): skipped\n");
        return 0;
    }
    if ( load_ref(ref) )
        return 1;

    return cmocka_run_group_tests_name("golden: default policy unchanged",
                                       tests, NULL, NULL);
}
