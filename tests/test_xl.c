/*
 * xl's precopy options and migrate-ctl: the real tools/xl/xl_precopy.c of
 * the tree under test, with the libxl calls it makes stubbed here.
 *
 * Options are parsed as main_migrate() parses them: getopt_long() over
 * the real PRECOPY_LONG_OPTS table, each one handed to
 * precopy_opts_parse(), then precopy_opts_finish().  What reaches libxl is
 * the libxl_domain_precopy_params it leaves.  migrate-ctl's command is fed
 * to the real policy engine, as libxl's save would read it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include <libxl.h>
#include <libxl_utils.h>
#include "xl.h"
#include "xl_precopy.h"
#include "xl_utils.h"
#include "libxl_precopy_policy.h"

/*----- what xl_precopy.c uses of xl and libxl -----*/

libxl_ctx *ctx;
xentoollog_logger_stdiostream *logger;

static struct {
    bool called;
    uint32_t domid;
    libxl_precopy_command cmd;
    uint32_t ms;
    int rc;
    bool migrating;         /* the domain has a migration in progress */
} ctl;

uint32_t find_domain(const char *p)
{
    if (!strcmp(p, "nosuchdomain")) {
        /* As xl's, for an unknown domain. */
        fprintf(stderr, "%s is an invalid domain identifier (rc=%d)\n", p,
                ERROR_INVAL);
        exit(EXIT_FAILURE);
    }
    return 7;
}

int def_getopt(int argc, char * const argv[], const char *optstring,
               const struct option *longopts, const char *helpstr,
               int reqargs)
{
    int opt = getopt_long(argc, argv, optstring, longopts, NULL);

    if (opt == '?' || opt == 'h')
        exit(2);
    if (opt == -1 && argc - optind < reqargs)
        exit(2);
    return opt;
}

void libxl_domain_precopy_params_init(libxl_domain_precopy_params *p)
{
    memset(p, 0, sizeof(*p));
}

int libxl_domain_precopy_control(libxl_ctx *c, uint32_t domid,
                                 libxl_precopy_command cmd,
                                 uint32_t downtime_ms)
{
    ctl.domid = domid;
    ctl.cmd = cmd;
    ctl.ms = downtime_ms;
    /* (last: the signals' test waits for it from another thread) */
    __atomic_store_n(&ctl.called, true, __ATOMIC_SEQ_CST);
    if (!ctl.migrating)
        return ERROR_NOTFOUND;
    return ctl.rc;
}

static int events_freed;
void libxl_event_free(libxl_ctx *c, libxl_event *ev)
{
    events_freed++;
}

#ifdef XL_HAVE_LEARN_DEST
void xasprintf(char **strp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    assert_true(vasprintf(strp, fmt, ap) >= 0);
    va_end(ap);
}
#endif

#if defined(XL_HAVE_SWITCHOVER_DONE) && !defined(XL_HAVE_LEARN_DEST)
static struct {
    int calls;
    uint32_t domid, ms;
    int rc;
} receiver;

int libxl_domain_precopy_switchover_receiver(libxl_ctx *c, uint32_t domid,
                                             uint32_t receiver_ms)
{
    receiver.calls++;
    receiver.domid = domid;
    receiver.ms = receiver_ms;
    return receiver.rc;
}
#endif

/*----- option parsing, as main_migrate() does it -----*/

static const struct option opts[] = {
    PRECOPY_LONG_OPTS,
    {0, 0, 0, 0},
};

/* Parses argv (NULL-terminated, without the program name). */
static int parse(struct precopy_opts *po, const char *const *args)
{
    char *argv[32];
    int argc = 0, opt, rc = 0;

    argv[argc++] = "migrate";
    while (*args)
        argv[argc++] = (char *)*args++;
    argv[argc] = NULL;

    precopy_opts_init(po);
    optind = 0;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (opt == '?')
            return -1;
        rc = precopy_opts_parse(po, opt, optarg);
        if (rc)
            return rc;
    }
    return precopy_opts_finish(po);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Every option reaches the libxl parameters, with its aliases. */
static void test_options(void **state)
{
    struct precopy_opts po;

    assert_int_equal(parse(&po, ARGS("--max-rounds", "12")), 0);
    assert_int_equal(po.params.max_rounds, 12);
    assert_int_equal(parse(&po, ARGS("--max_iters=9")), 0);
    assert_int_equal(po.params.max_rounds, 9);

    assert_int_equal(parse(&po, ARGS("--dirty-target", "5000")), 0);
    assert_int_equal(po.params.dirty_target, 5000);
    assert_int_equal(parse(&po, ARGS("--min_remaining", "18446744073709551615")),
                     0);
    assert_int_equal(po.params.dirty_target, UINT64_MAX);

    assert_int_equal(parse(&po, ARGS("--max-factor", "2.5")), 0);
    assert_int_equal(po.params.max_factor_pct, 250);
    assert_int_equal(parse(&po, ARGS("--max_factor", "3")), 0);
    assert_int_equal(po.params.max_factor_pct, 300);

    assert_int_equal(parse(&po, ARGS("--abort-if-busy")), 0);
    assert_true(po.params.abort_if_busy);
    assert_int_equal(parse(&po, ARGS("--abort_if_busy")), 0);
    assert_true(po.params.abort_if_busy);

    assert_int_equal(parse(&po, ARGS("--downtime", "300")), 0);
    assert_int_equal(po.params.downtime_ms, 300);

    assert_int_equal(parse(&po, ARGS("--timeout", "60")), 0);
    assert_int_equal(po.params.timeout_ms, 60000);
    assert_int_equal(po.params.timeout_action,
                     LIBXL_PRECOPY_TIMEOUT_ACTION_ABORT);
    assert_int_equal(parse(&po, ARGS("--timeout", "60", "--timeout-action",
                                     "switchover")), 0);
    assert_int_equal(po.params.timeout_action,
                     LIBXL_PRECOPY_TIMEOUT_ACTION_SWITCHOVER);
    assert_int_equal(parse(&po, ARGS("--timeout-action=abort",
                                     "--timeout=1")), 0);
    assert_int_equal(po.params.timeout_action,
                     LIBXL_PRECOPY_TIMEOUT_ACTION_ABORT);

    /* All at once. */
    assert_int_equal(parse(&po, ARGS("--max-rounds=30", "--dirty-target=100",
                                     "--max-factor=1.25", "--abort-if-busy",
                                     "--downtime=50", "--timeout=600",
                                     "--timeout-action=switchover")), 0);
    assert_int_equal(po.params.max_rounds, 30);
    assert_int_equal(po.params.dirty_target, 100);
    assert_int_equal(po.params.max_factor_pct, 125);
    assert_true(po.params.abort_if_busy);
    assert_int_equal(po.params.downtime_ms, 50);
    assert_int_equal(po.params.timeout_ms, 600000);
    assert_int_equal(po.params.timeout_action,
                     LIBXL_PRECOPY_TIMEOUT_ACTION_SWITCHOVER);

#ifdef XL_HAVE_SWITCHOVER
    assert_int_equal(parse(&po, ARGS("--switchover-ms", "120")), 0);
    assert_int_equal(po.params.switchover_ms, 120);
#endif
}

/* No option: nothing set, which is libxenguest's default rule. */
static void test_no_options(void **state)
{
    struct precopy_opts po;
    libxl_domain_precopy_params zero;

    memset(&zero, 0, sizeof(zero));
    assert_int_equal(parse(&po, ARGS(NULL)), 0);
    assert_memory_equal(&po.params, &zero, sizeof(zero));
    assert_int_equal(po.given, 0);
}

/* Bad input: one clear line each, and an error. */
static void test_bad_input(void **state)
{
    const char *const *bad[] = {
        ARGS("--max-rounds", "-1"),
        ARGS("--max-rounds", "0"),
        ARGS("--max-rounds", "abc"),
        ARGS("--max-rounds", "12abc"),
        ARGS("--max-rounds", ""),
        ARGS("--max-rounds", "4294967296"),
        ARGS("--max-rounds", "99999999999999999999999"),
        ARGS("--max-rounds", " 5"),
        ARGS("--max-rounds", "+5"),
        ARGS("--max-rounds", "5", "--max_iters", "6"),   /* conflict */
        ARGS("--dirty-target", "0"),
        ARGS("--dirty-target", "18446744073709551616"),
        ARGS("--min_remaining", "-50"),
        ARGS("--max-factor", "0"),
        ARGS("--max-factor", "0.001"),
        ARGS("--max-factor", "-2"),
        ARGS("--max-factor", "nan"),
        ARGS("--max-factor", "inf"),
        ARGS("--max-factor", "1e300"),
        ARGS("--max-factor", "2x"),
        ARGS("--downtime", "0"),
        ARGS("--downtime", "4294967296"),
        ARGS("--downtime", "1.5"),
        ARGS("--timeout", "0"),
        ARGS("--timeout", "18446744073709552"),
        ARGS("--timeout-action", "switchover"),      /* without timeout */
        ARGS("--timeout", "5", "--timeout-action", "resume"),
        ARGS("--abort-if-busy", "--abort_if_busy"),
        ARGS("--max-rounds"),                        /* missing value */
#ifdef XL_HAVE_SWITCHOVER
        ARGS("--switchover-ms", "0"),
        ARGS("--switchover-ms", "-10"),
        ARGS("--switchover-ms", "4294967296"),
        ARGS("--switchover-ms", "10ms"),
#endif
    };
    unsigned int i;

    for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct precopy_opts po;

        if (parse(&po, bad[i]) == 0)
            fail_msg("accepted: %s %s", bad[i][0],
                     bad[i][1] ? bad[i][1] : "");
    }
}

/* The largest values still accepted. */
static void test_limits(void **state)
{
    struct precopy_opts po;

    assert_int_equal(parse(&po, ARGS("--max-rounds", "4294967295",
                                     "--downtime", "4294967295",
                                     "--timeout", "18446744073709551")), 0);
    assert_int_equal(po.params.max_rounds, UINT32_MAX);
    assert_int_equal(po.params.downtime_ms, UINT32_MAX);
    assert_int_equal(po.params.timeout_ms, 18446744073709551000ULL);
    assert_int_equal(parse(&po, ARGS("--max-factor", "0.01")), 0);
    assert_int_equal(po.params.max_factor_pct, 1);
}

#ifdef XL_HAVE_MIGRATE_CTL
/*----- migrate-ctl -----*/

static int run_ctl(const char *const *args)
{
    char *argv[8];
    int argc = 0;

    argv[argc++] = "migrate-ctl";
    while (*args)
        argv[argc++] = (char *)*args++;
    argv[argc] = NULL;
    optind = 0;
    memset(&ctl, 0, sizeof(ctl));
    ctl.migrating = true;
    return main_migrate_ctl(argc, argv);
}

static void test_ctl_commands(void **state)
{
    assert_int_equal(run_ctl(ARGS("guest", "abort")), EXIT_SUCCESS);
    assert_true(ctl.called);
    assert_int_equal(ctl.domid, 7);
    assert_int_equal(ctl.cmd, LIBXL_PRECOPY_COMMAND_ABORT);

    assert_int_equal(run_ctl(ARGS("guest", "switchover")), EXIT_SUCCESS);
    assert_int_equal(ctl.cmd, LIBXL_PRECOPY_COMMAND_SWITCHOVER);

    assert_int_equal(run_ctl(ARGS("guest", "downtime", "250")),
                     EXIT_SUCCESS);
    assert_int_equal(ctl.cmd, LIBXL_PRECOPY_COMMAND_DOWNTIME);
    assert_int_equal(ctl.ms, 250);
}

/* ("downtime -3" is refused by getopt, as an unknown option.) */
static void test_ctl_bad(void **state)
{
    const char *const *bad[] = {
        ARGS("guest", "pause"),
        ARGS("guest", "downtime"),
        ARGS("guest", "downtime", "0"),
        ARGS("guest", "downtime", "fast"),
        ARGS("guest", "downtime", "4294967296"),
        ARGS("guest", "abort", "now"),
        ARGS("guest", "downtime", "10", "20"),
    };
    unsigned int i;

    for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        assert_int_equal(run_ctl(bad[i]), EXIT_FAILURE);
        assert_false(ctl.called);
    }

    /* A domain not being migrated. */
    optind = 0;
    memset(&ctl, 0, sizeof(ctl));
    assert_int_equal(main_migrate_ctl(3, (char *[]){ "migrate-ctl", "guest",
                                                     "abort", NULL }),
                     EXIT_FAILURE);
    assert_true(ctl.called);
}

/*
 * The commands' effect on the engine, as libxl's save reads them at its
 * next consultation (abort, switchover: set; downtime: the new target).
 */
static int engine_after_ctl(const char *const *args)
{
    libxl__precopy_params p = { 0 };
    libxl__precopy_control c = { 0 };
    libxl__precopy_state s;
    struct precopy_stats st = { 0, 0, 1 << 20, 0, 0 };
    uint64_t now = 0;

    libxl__precopy_state_init(&s);
    assert_int_equal(libxl__precopy_decide(&p, &c, &s, &st, now),
                     XGS_POLICY_CONTINUE_PRECOPY);
    /* Round 1: 2^20 pages in 10 s; 20000 dirtied meanwhile. */
    st.iteration = 1;
    st.total_written = st.round_written = 1 << 20;
    st.dirty_count = -1;
#ifdef TEST_HAVE_ROUND_DIRTIED
    st.round_dirtied = -1;        /* after round 0: unknown */
#endif
    now += 10000000000ULL;
    assert_int_equal(libxl__precopy_decide(&p, &c, &s, &st, now),
                     XGS_POLICY_CONTINUE_PRECOPY);

    assert_int_equal(run_ctl(args), EXIT_SUCCESS);
    c.abort = ctl.cmd == LIBXL_PRECOPY_COMMAND_ABORT;
    c.switchover = ctl.cmd == LIBXL_PRECOPY_COMMAND_SWITCHOVER;
    if (ctl.cmd == LIBXL_PRECOPY_COMMAND_DOWNTIME)
        c.downtime_ms = ctl.ms;

    st.dirty_count = 20000;
    return libxl__precopy_decide(&p, &c, &s, &st, now);
}

static void test_ctl_engine(void **state)
{
    assert_int_equal(engine_after_ctl(ARGS("guest", "abort")),
                     XGS_POLICY_ABORT);
    assert_int_equal(engine_after_ctl(ARGS("guest", "switchover")),
                     XGS_POLICY_STOP_AND_COPY);
    /* 20000 pages at ~104858 pages/s: ~191ms; within 300, not 100. */
    assert_int_equal(engine_after_ctl(ARGS("guest", "downtime", "300")),
                     XGS_POLICY_STOP_AND_COPY);
    assert_int_equal(engine_after_ctl(ARGS("guest", "downtime", "100")),
                     XGS_POLICY_CONTINUE_PRECOPY);
}

#endif /* XL_HAVE_MIGRATE_CTL */

#ifdef XL_HAVE_ROUND_REPORT
/*----- per-round progress -----*/

static void test_progress(void **state)
{
    struct precopy_opts po;
    libxl_event ev;
    char buf[512] = "";
    FILE *f = tmpfile(), *saved = stderr;

    precopy_opts_init(&po);
    memset(&ev, 0, sizeof(ev));
    ev.type = LIBXL_EVENT_TYPE_PRECOPY_ROUND;
    ev.u.precopy_round.round = 3;
    ev.u.precopy_round.pages_sent = 12345;
    ev.u.precopy_round.dirty_pages = 678;
    ev.u.precopy_round.rate_pps = 25600;       /* 100 MiB/s */
    ev.u.precopy_round.predicted_downtime_ms = 27;
    ev.u.precopy_round.decision = LIBXL_PRECOPY_DECISION_STOP_AND_COPY;
    ev.u.precopy_round.reason = "downtime target reached";

    stderr = f;
    events_freed = 0;
    precopy_round_report(NULL, &ev, &po);
    /* A slow link, a round in progress: KiB/s, figures not known. */
    ev.u.precopy_round.rate_pps = 100;
    ev.u.precopy_round.dirty_pages = LIBXL_PRECOPY_UNKNOWN;
    ev.u.precopy_round.predicted_downtime_ms = LIBXL_PRECOPY_UNKNOWN;
    ev.u.precopy_round.decision = LIBXL_PRECOPY_DECISION_CONTINUE;
    precopy_round_report(NULL, &ev, &po);
    po.quiet = true;
    precopy_round_report(NULL, &ev, &po);
    stderr = saved;
    assert_int_equal(events_freed, 3);

    rewind(f);
    assert_non_null(fgets(buf, sizeof(buf), f));
    assert_string_equal(buf, "migration sender: round 3: 12345 pages sent, "
                        "678 dirty, 100 MiB/s, downtime 27ms: stop and copy "
                        "(downtime target reached)\n");
    assert_non_null(fgets(buf, sizeof(buf), f));
    assert_string_equal(buf, "migration sender: round 3: 12345 pages sent, "
                        "? dirty, 400 KiB/s, downtime ?: continue\n");
    /* Quiet: nothing more. */
    assert_null(fgets(buf, sizeof(buf), f));
    fclose(f);
}
#endif /* XL_HAVE_ROUND_REPORT */

#if defined(XL_HAVE_SWITCHOVER_DONE) && !defined(XL_HAVE_LEARN_DEST)
/*----- the receiver's share of the switchover, handed to libxl -----*/

static void test_switchover_done(void **state)
{
    static const struct {
        struct timespec sent, started;
        int rc;                 /* what libxl returns */
        int calls;              /* libxl told, or not */
        uint32_t ms;            /* what libxl is told */
        const char *out;        /* what xl prints, first line */
    } cases[] = {
        /* Across a second: 0.9 s -> 1.15 s. */
        { {10, 900000000}, {11, 150000000}, 0, 1, 250,
          "migration sender: the receiver started the domain 250ms "
          "after the stream ended.\n" },
        /* Under a millisecond: 0, rounded down, but told. */
        { {5, 100}, {5, 999999}, 0, 1, 0,
          "migration sender: the receiver started the domain 0ms "
          "after the stream ended.\n" },
        /* Days: saturates at what libxl takes. */
        { {0, 0}, {(time_t)5000000000, 0}, 0, 1, UINT32_MAX, NULL },
        /* libxl fails: said, and nothing else. */
        { {1, 0}, {2, 0}, ERROR_FAIL, 1, 1000,
          "migration sender: the receiver started the domain 1000ms "
          "after the stream ended.\n" },
        /* Backwards: not told. */
        { {2, 0}, {1, 999999999}, 0, 0, 0, NULL },
    };
    unsigned int i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct precopy_opts po;
        char buf[512] = "";
        FILE *f = tmpfile(), *saved = stderr;

        print_message("case %u: %lld.%09ld -> %lld.%09ld\n", i,
                      (long long)cases[i].sent.tv_sec, cases[i].sent.tv_nsec,
                      (long long)cases[i].started.tv_sec,
                      cases[i].started.tv_nsec);
        precopy_opts_init(&po);
        memset(&receiver, 0, sizeof(receiver));
        receiver.rc = cases[i].rc;
        stderr = f;
        precopy_switchover_done(&po, 9, &cases[i].sent, &cases[i].started);
        stderr = saved;
        assert_int_equal(receiver.calls, cases[i].calls);
        if (cases[i].calls) {
            assert_int_equal(receiver.domid, 9);
            assert_int_equal(receiver.ms, cases[i].ms);
        }
        rewind(f);
        if (cases[i].out) {
            assert_non_null(fgets(buf, sizeof(buf), f));
            assert_string_equal(buf, cases[i].out);
        }
        if (cases[i].rc) {
            assert_non_null(fgets(buf, sizeof(buf), f));
            assert_non_null(strstr(buf, "could not record"));
        }
        fclose(f);
    }
}

/* Quiet: told, and nothing printed. */
static void test_switchover_done_quiet(void **state)
{
    struct precopy_opts po;
    struct timespec sent = {3, 0}, started = {3, 400000000};
    char buf[64];
    FILE *f = tmpfile(), *saved = stderr;

    precopy_opts_init(&po);
    po.quiet = true;
    memset(&receiver, 0, sizeof(receiver));
    stderr = f;
    precopy_switchover_done(&po, 4, &sent, &started);
    stderr = saved;
    assert_int_equal(receiver.calls, 1);
    assert_int_equal(receiver.ms, 400);
    rewind(f);
    assert_null(fgets(buf, sizeof(buf), f));
    fclose(f);
}
#endif /* XL_HAVE_SWITCHOVER_DONE */

#ifdef XL_HAVE_LEARN_DEST
/*----- the switchover, learnt per destination (patch 35) -----*/

#define SO_SHARE        struct precopy_share
#define SO_PARSE        precopy_share_parse
#define SO_TEXT         precopy_share_text
#define SO_ADD          precopy_share_add
#define SO_MEDIAN       precopy_share_median
#define SO_TEXT_MAX     PRECOPY_LEARN_TEXT_MAX
#define SO_CEIL_MS      PRECOPY_LEARN_CEIL_MS
#define SO_GUEST        PRECOPY_LEARN_GUEST_MS

/* What the policy counts: xl's switchover, or libxl's allowance for 0. */
static uint32_t SO_DEFAULT(const struct precopy_share *sender,
                           const struct precopy_share *receiver)
{
    struct precopy_learnt l = { *sender, *receiver };
    uint32_t ms = precopy_learnt_switchover(&l);

    return ms ? ms : LIBXL__PRECOPY_SWITCHOVER_GUEST_MS;
}
#include "switchover_cases.h"

static char learn_dir[] = "/tmp/test_xl.XXXXXX";

static char *learnt_file(const char *name)
{
    char *p;

    assert_true(asprintf(&p, "%s/%s", learn_dir, name) >= 0);
    return p;
}

static void put_file(const char *name, const char *text)
{
    char *p = learnt_file(name);
    FILE *f = fopen(p, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

/* The file's text, "" if none. */
static const char *get_file(const char *name)
{
    static char buf[2048];
    char *p = learnt_file(name);
    FILE *f = fopen(p, "r");
    size_t n = 0;

    if (f) {
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    free(p);
    return buf;
}

static void learn_setup(void)
{
    char cmd[64];

    if (learn_dir[strlen(learn_dir) - 1] == 'X')
        assert_non_null(mkdtemp(learn_dir));
    snprintf(cmd, sizeof(cmd), "rm -rf %s/*", learn_dir);
    assert_int_equal(system(cmd), 0);
    precopy_learnt_dir = learn_dir;
}

/* A destination's file: its name, whatever the host as written. */
static void test_learnt_path(void **state)
{
    static const struct {
        const char *host;
        const char *name;           /* NULL: none (nothing learnt) */
    } t[] = {
        { "host2", "host2" },
        { "root@10.0.0.2", "root@10.0.0.2" },
        { "host-b.example.org", "host-b.example.org" },
        /* a path out of the directory, or "." and ".." themselves */
        { "../../etc/passwd", "%2e.%2f..%2fetc%2fpasswd" },
        { ".", "%2e" },
        { "..", "%2e." },
        { "a b\tc", "a%20b%09c" },
        { "xl migrate-receive", "xl%20migrate-receive" },
        { "\xff\x01", "%ff%01" },
        { "", NULL },
    };
    char long_host[300];
    unsigned int i;
    char *p, *want;

    learn_setup();
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        print_message("host '%s'\n", t[i].host);
        p = precopy_learnt_path(t[i].host);
        if (!t[i].name) {
            assert_null(p);
            continue;
        }
        want = learnt_file(t[i].name);
        assert_non_null(p);
        assert_string_equal(p, want);
        free(want);
        free(p);
    }
    /* Too long for a file name: nothing learnt, and said. */
    memset(long_host, 'a', sizeof(long_host) - 1);
    long_host[sizeof(long_host) - 1] = '\0';
    assert_null(precopy_learnt_path(long_host));
}

/*
 * A destination's file as xl reads it: whatever is in it, what is learnt
 * is bounded, and what is not a measurement is left out (and counted).
 */
static char fifty[7 + 50 * 2 + 1] = "sender";

static void test_learnt_file(void **state)
{
    const struct {
        const char *name;
        const char *text;           /* NULL: no file */
        int bad;                    /* precopy_learnt_read() */
        uint32_t switchover;        /* counted, 0: libxl's allowance */
    } t[] = {
        { "no file", NULL, 0, 0 },
        { "empty", "", 0, 0 },
        { "as xl writes it", "sender 150 150 160\nreceiver 300 310\n", 0,
          150 + 310 + PRECOPY_LEARN_GUEST_MS },
        { "no newline at the end", "sender 150\nreceiver 300", 0,
          150 + 300 + PRECOPY_LEARN_GUEST_MS },
        { "receiver only", "receiver 300\n", 0,
          300 + PRECOPY_LEARN_GUEST_MS },
        { "huge, negative, malformed", "sender 99999999999 -5 12abc\n"
          "receiver 0 4294967296 0x10\n", 6, 0 },
        { "over the ceiling", "sender 2001\nreceiver 1999\n", 1,
          1999 + PRECOPY_LEARN_GUEST_MS },
        { "a line xl never writes", "guest 60000\nsender 100\n", 1,
          100 + PRECOPY_LEARN_GUEST_MS },
        { "binary", "\x01\x02\xff\n\x7f", 2, 0 },
        { "50 values: the newest 5", fifty, 45,
          1 + PRECOPY_LEARN_GUEST_MS },
    };
    struct precopy_learnt l;
    char big[1500];
    unsigned int i;
    char *p;

    learn_setup();
    for (i = 0; i < 50; i++)
        strcat(fifty, " 1");
    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        print_message("%s\n", t[i].name);
        p = learnt_file("host");
        unlink(p);
        if (t[i].text)
            put_file("host", t[i].text);
        assert_int_equal(precopy_learnt_read(p, &l), t[i].bad);
        assert_int_equal(precopy_learnt_switchover(&l), t[i].switchover);
        free(p);
    }

    /* Not a file of ours: too large, a directory, a symlink. */
    p = learnt_file("host");
    memset(big, '1', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    unlink(p);
    put_file("host", big);
    assert_int_equal(precopy_learnt_read(p, &l), -1);
    assert_int_equal(precopy_learnt_switchover(&l), 0);
    unlink(p);
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(precopy_learnt_read(p, &l), -1);
    rmdir(p);
    put_file("target", "sender 100\nreceiver 100\n");
    assert_int_equal(symlink("target", p), 0);
    assert_int_equal(precopy_learnt_read(p, &l), -1);
    assert_int_equal(precopy_learnt_switchover(&l), 0);
    unlink(p);
    free(p);
}

/* One migration to host: libxl reported sender_ms, the receiver took
 * receiver_ms; what it counted, and what xl printed. */
static uint32_t one_migration(const char *host, const char *given,
                              uint32_t sender_ms, uint32_t receiver_ms,
                              bool reported, char *out, size_t outlen)
{
    struct precopy_opts po;
    struct timespec sent = {10, 0};
    struct timespec started = {10 + receiver_ms / 1000,
                               (receiver_ms % 1000) * 1000000};
    libxl_event *ev = calloc(1, sizeof(*ev));
    FILE *f = tmpfile(), *saved = stderr;
    uint32_t counted;
    size_t n;

    precopy_opts_init(&po);
    if (given)
        assert_int_equal(precopy_opts_parse(&po, PRECOPY_OPT_SWITCHOVER,
                                            given), 0);
    assert_int_equal(precopy_opts_parse(&po, PRECOPY_OPT_DOWNTIME, "500"),
                     0);
    po.destination = host;
    stderr = f;
    precopy_switchover_plan(&po);
    counted = po.params.switchover_ms;
    /* (libxl: the rounds, then the switchover's event) */
    ev->type = LIBXL_EVENT_TYPE_PRECOPY_SWITCHOVER;
    ev->u.precopy_switchover.suspend_ms = 60000;    /* never learnt */
    ev->u.precopy_switchover.device_ms = sender_ms;
    if (reported)
        precopy_round_report(ctx, ev, &po);
    free(ev);
    precopy_switchover_done(&po, &sent, &started);
    stderr = saved;
    rewind(f);
    n = fread(out, 1, outlen - 1, f);
    out[n] = '\0';
    fclose(f);
    return counted;
}

static void test_learn_per_destination(void **state)
{
    char out[1024];

    learn_setup();
    /* Nothing learnt: libxl's allowance (0). */
    assert_int_equal(one_migration("a", NULL, 150, 300, true, out,
                                   sizeof(out)), 0);
    assert_non_null(strstr(out, "the receiver started the domain 300ms "
                           "after the stream ended"));
    /* Learnt for a, and not for b; never the guest's suspend. */
    assert_string_equal(get_file("a"), "sender 150\nreceiver 300\n");
    assert_string_equal(get_file("b"), "");
    assert_int_equal(one_migration("b", NULL, 40, 1900, true, out,
                                   sizeof(out)), 0);
    assert_string_equal(get_file("b"), "sender 40\nreceiver 1900\n");
    /* Each destination counts its own. */
    assert_int_equal(one_migration("a", NULL, 150, 300, true, out,
                                   sizeof(out)),
                     150 + 300 + PRECOPY_LEARN_GUEST_MS);
    assert_non_null(strstr(out, "counting 550ms for the switchover"));
    assert_int_equal(one_migration("b", NULL, 40, 1900, true, out,
                                   sizeof(out)),
                     40 + 1900 + PRECOPY_LEARN_GUEST_MS);
    /* A slow receive to a (9 s) moves a's median no more than b's. */
    one_migration("a", NULL, 150, 9000, true, out, sizeof(out));
    assert_string_equal(get_file("a"),
                        "sender 150 150 150\nreceiver 300 300 2000\n");
    assert_int_equal(one_migration("a", NULL, 150, 300, true, out,
                                   sizeof(out)),
                     150 + 300 + PRECOPY_LEARN_GUEST_MS);
    /* Given: counted as given, and the file is not read. */
    put_file("c", "sender 2000\nreceiver 2000\n");
    assert_int_equal(one_migration("c", "700", 10, 10, true, out,
                                   sizeof(out)), 700);
    /* libxl reported nothing (an older libxl): nothing learnt. */
    one_migration("d", NULL, 10, 10, false, out, sizeof(out));
    assert_string_equal(get_file("d"), "");
    /* A hostile file is replaced by what was measured. */
    put_file("e", "sender 99999999999\x01\nreceiver -5\n");
    assert_int_equal(one_migration("e", NULL, 120, 220, true, out,
                                   sizeof(out)), 0);
    assert_non_null(strstr(out, "left out"));
    assert_string_equal(get_file("e"), "sender 120\nreceiver 220\n");
    /* A name with a slash stays in the directory. */
    one_migration("../f", NULL, 5, 5, true, out, sizeof(out));
    assert_string_equal(get_file("%2e.%2ff"), "sender 5\nreceiver 5\n");
    /* Cannot be written: said, and the migration goes on. */
    precopy_learnt_dir = "/proc/self/no/such/dir";
    one_migration("a", NULL, 150, 300, true, out, sizeof(out));
    assert_non_null(strstr(out, "could not record the switchover"));
    precopy_learnt_dir = learn_dir;
    assert_string_equal(get_file("a"),
                        "sender 150 150 150 150\nreceiver 300 300 2000 300\n");
}
#endif /* XL_HAVE_LEARN_DEST */

#ifdef XL_HAVE_AUTO_CONVERGE
/*----- auto-converge -----*/

static void test_auto_converge_options(void **state)
{
    const char *const *const bad[] = {
        ARGS("--auto-converge"),                     /* no --downtime */
        ARGS("--downtime", "300", "--max-throttle", "50"),
        ARGS("--downtime", "300", "--auto-converge", "--max-throttle", "0"),
        ARGS("--downtime", "300", "--auto-converge", "--max-throttle",
             "100"),
        ARGS("--downtime", "300", "--auto-converge", "--max-throttle",
             "50%"),
        ARGS("--downtime", "300", "--auto-converge", "--auto-converge"),
    };
    struct precopy_opts po;
    unsigned int i;

    assert_int_equal(parse(&po, ARGS("--downtime", "300",
                                     "--auto-converge")), 0);
    assert_true(po.params.auto_converge);
    assert_int_equal(po.params.max_throttle_pct, 0);
    assert_int_equal(parse(&po, ARGS("--downtime", "300", "--auto-converge",
                                     "--max-throttle", "99")), 0);
    assert_int_equal(po.params.max_throttle_pct, 99);
    assert_int_equal(parse(&po, ARGS("--downtime", "300")), 0);
    assert_false(po.params.auto_converge);

    for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        if (parse(&po, bad[i]) == 0)
            fail_msg("accepted case %u", i);

    assert_int_equal(run_ctl(ARGS("guest", "unthrottle")), EXIT_SUCCESS);
    assert_int_equal(ctl.cmd, LIBXL_PRECOPY_COMMAND_UNTHROTTLE);
    assert_int_equal(run_ctl(ARGS("guest", "unthrottle", "5")),
                     EXIT_FAILURE);
}

/* The per-round line shows the throttle with --auto-converge only. */
static void test_auto_converge_progress(void **state)
{
    struct precopy_opts po;
    libxl_event ev;
    char buf[512] = "";
    FILE *f = tmpfile(), *saved = stderr;

    assert_int_equal(parse(&po, ARGS("--downtime", "300",
                                     "--auto-converge")), 0);
    memset(&ev, 0, sizeof(ev));
    ev.type = LIBXL_EVENT_TYPE_PRECOPY_ROUND;
    ev.u.precopy_round.round = 2;
    ev.u.precopy_round.pages_sent = 500;
    ev.u.precopy_round.dirty_pages = 400;
    ev.u.precopy_round.rate_pps = 256;
    ev.u.precopy_round.predicted_downtime_ms = 900;
    ev.u.precopy_round.decision = LIBXL_PRECOPY_DECISION_CONTINUE;
    ev.u.precopy_round.reason = "";
    ev.u.precopy_round.throttle_pct = 45;

    stderr = f;
    precopy_round_report(NULL, &ev, &po);
    po.params.auto_converge = false;
    precopy_round_report(NULL, &ev, &po);
    stderr = saved;

    rewind(f);
    assert_non_null(fgets(buf, sizeof(buf), f));
    assert_string_equal(buf, "migration sender: round 2: 500 pages sent, "
                        "400 dirty, 1 MiB/s, downtime 900ms, throttle 45%: "
                        "continue\n");
    assert_non_null(fgets(buf, sizeof(buf), f));
    assert_string_equal(buf, "migration sender: round 2: 500 pages sent, "
                        "400 dirty, 1 MiB/s, downtime 900ms: continue\n");
    fclose(f);
}
#endif /* XL_HAVE_AUTO_CONVERGE */

#ifdef XL_HAVE_SIGNALS
/* Waits up to 5s for cond(); false if it did not come. */
static bool await(bool (*cond)(void))
{
    const struct timespec tick = { 0, 10 * 1000 * 1000 };
    int i;

    for (i = 0; i < 500; i++) {
        if (cond())
            return true;
        nanosleep(&tick, NULL);
    }
    return cond();
}

static bool ctl_called(void)
{
    return __atomic_load_n(&ctl.called, __ATOMIC_SEQ_CST);
}

static int late_sig;
static bool late_is(void)
{
    return precopy_signal_late() == late_sig;
}

/*
 * SIGINT, SIGHUP and SIGTERM to xl during a migration, as a terminal's
 * Ctrl-C or hangup sends them to the whole process group: xl lives on;
 * in precopy each asks libxl to abort, as migrate-ctl abort does; once
 * libxl refuses (past precopy, or the save ended) the signal is kept for
 * migrate_domain() to fail the migration with the domain resumed.
 */
static void test_signals(void **state)
{
    static const struct {
        const char *name;
        int sig;
        bool in_precopy;    /* libxl takes the abort */
        int rc;             /* what libxl answers otherwise */
    } cases[] = {
        { "SIGINT in precopy", SIGINT, true, 0 },
        { "SIGHUP in precopy", SIGHUP, true, 0 },
        { "SIGTERM in precopy", SIGTERM, true, 0 },
        { "SIGINT in stop-and-copy", SIGINT, false, ERROR_FAIL },
        { "SIGHUP after the save", SIGHUP, false, ERROR_NOTFOUND },
    };
    unsigned int i;

    memset(&ctl, 0, sizeof(ctl));
    assert_int_equal(precopy_signals_start(7), 0);
    assert_int_equal(precopy_signal_late(), 0);

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ctl.migrating = cases[i].rc != ERROR_NOTFOUND;
        ctl.rc = cases[i].rc;
        ctl.cmd = 0;
        __atomic_store_n(&ctl.called, false, __ATOMIC_SEQ_CST);
        /* (to the process, as a terminal's signal is) */
        assert_int_equal(kill(getpid(), cases[i].sig), 0);
        if (!await(ctl_called))
            fail_msg("%s: libxl_domain_precopy_control() not called",
                     cases[i].name);
        if (ctl.cmd != LIBXL_PRECOPY_COMMAND_ABORT || ctl.domid != 7)
            fail_msg("%s: command %d for domain %u, expected abort for 7",
                     cases[i].name, ctl.cmd, ctl.domid);
        if (cases[i].in_precopy) {
            /* (nothing kept: give the thread time to get it wrong) */
            await(ctl_called);
            if (precopy_signal_late())
                fail_msg("%s: kept as late (signal %d)", cases[i].name,
                         precopy_signal_late());
        } else {
            late_sig = cases[i].sig;
            if (!await(late_is))
                fail_msg("%s: late signal %d, expected %d", cases[i].name,
                         precopy_signal_late(), cases[i].sig);
        }
    }
}
#endif /* XL_HAVE_SIGNALS */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options),
        cmocka_unit_test(test_no_options),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_limits),
#ifdef XL_HAVE_MIGRATE_CTL
        cmocka_unit_test(test_ctl_commands),
        cmocka_unit_test(test_ctl_bad),
        cmocka_unit_test(test_ctl_engine),
#endif
#ifdef XL_HAVE_ROUND_REPORT
        cmocka_unit_test(test_progress),
#endif
#if defined(XL_HAVE_SWITCHOVER_DONE) && !defined(XL_HAVE_LEARN_DEST)
        cmocka_unit_test(test_switchover_done),
        cmocka_unit_test(test_switchover_done_quiet),
#endif
#ifdef XL_HAVE_LEARN_DEST
        cmocka_unit_test(test_switchover_learn),
        cmocka_unit_test(test_switchover_parse),
        cmocka_unit_test(test_learnt_path),
        cmocka_unit_test(test_learnt_file),
        cmocka_unit_test(test_learn_per_destination),
#endif
#ifdef XL_HAVE_AUTO_CONVERGE
        cmocka_unit_test(test_auto_converge_options),
        cmocka_unit_test(test_auto_converge_progress),
#endif
#ifdef XL_HAVE_SIGNALS
        /* (last: it leaves the three signals blocked, and a thread) */
        cmocka_unit_test(test_signals),
#endif
    };

    return cmocka_run_group_tests_name("xl precopy options", tests, NULL,
                                       NULL);
}
