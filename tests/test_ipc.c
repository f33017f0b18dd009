/*
 * The precopy policy across libxl-save-helper, with the tree's real code
 * on both sides of a real pipe:
 *
 *  - the child process runs the real libxl_save_helper.c (its main(),
 *    renamed) with the generated _libxl_save_msgs_helper.c; its call to
 *    xc_domain_save() comes here, and, for the loop scenarios, goes on to
 *    the real xg_sr_save.c on the fake Xen of tests/fakexen;
 *  - the parent plays libxl: it reads the helper's messages and hands
 *    them to the generated _libxl_save_msgs_callout.c, whose precopy
 *    policy callback is the real policy engine.  (libxl's event loop,
 *    and its xenstore reads for the runtime control, are not in it.)
 *
 *   test_ipc           the tests
 *   test_ipc --bench   also the round-trip benchmark: prints the median
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <xenctrl.h>
#include <xenguest.h>
#include "_libxl_save_msgs_callout.h"
#include "libxl_precopy_policy.h"
#include "fake_xen.h"

/* libxl_save_helper.c, built with main and the libxc calls renamed. */
int save_helper_main(int argc, char **argv);
int ipc_xc_domain_save(xc_interface *xch, int io_fd, uint32_t dom,
                       uint32_t flags, struct save_callbacks *callbacks,
                       xc_stream_type_t stream_type, int recv_fd);

enum scenario { MARSHAL, LOOP, BENCH, MANY };

#define MAX_CALLS 64
#define BENCH_CALLS 20000
#define MANY_CALLS 100000
#define MANY_WARMUP 1000

/* What the helper's side saw, sent back to the parent. */
struct child_result {
    bool have_policy;
    unsigned int batches;
    unsigned int n;
    struct precopy_stats sent[MAX_CALLS];
    int got[MAX_CALLS];
    int rc, err;
    bool logdirty, suspended;
    unsigned long stale, pages_sent, sent_stopcopy;
    uint64_t stream_hash;
    double median_us;
    long rss_growth_kib;        /* MANY: after the warm-up, to the end */
};

/* The parent's side: libxl's part. */
struct ipc {
    enum scenario scenario;
    int to_helper, from_helper, result;
    unsigned int batches;
    bool no_policy;         /* libxl sets no policy */
    libxl__srm_save_autogen_callbacks cbs;
    /* What the policy got. */
    unsigned int n;
    struct precopy_stats got[MAX_CALLS];
    /* The engine, or a script. */
    libxl__precopy_params params;
    libxl__precopy_state engine;
    uint64_t clock;
    int abort_at;           /* 1-based call to answer ABORT; 0: never */
    int signal_at;          /* call during whose reply the helper gets
                             * SIGTERM, as libxl's abort sends it */
    pid_t pid;              /* the helper */
    int hangup_at;          /* call after which libxl goes away */
    bool hangup_before_reply;
    bool gone;
    bool completed;
    int retval, errnoval;
    long rss_warm_kib, rss_growth_kib;  /* MANY: libxl's side */
};

static struct ipc *cur;

static const struct precopy_stats marshal_stats[] = {
    { 0, 0, 1 << 20, 0, 0 },
    { 1, 1 << 20, -1, 1 << 20, 0 },
    { 1, (1 << 20) + 4096, -1, 4096, 123456 },
    { 7, ULONG_MAX, LONG_MAX, ULONG_MAX, ULONG_MAX },
    { UINT_MAX, 1UL << 32, LONG_MIN, 1UL << 40, 1 },
};

/* The decision the parent answers marshal_stats[] with: any int. */
static int marshal_answer(struct precopy_stats s)
{
    return (int)(s.iteration % 7) - 3 + (int)(s.round_remaining % 5);
}

/*----- the helper's side -----*/

static enum scenario child_scenario;
static struct child_result result;
static int result_fd;
static precopy_policy_t helper_policy;

static void workload(struct fake_xen *fx, unsigned int round)
{
    unsigned long i;

    for ( i = 0; i < 300; i++ )
        fake_guest_write(fx, (round * 97 + i * 7) % fx->p2m_size);
}

static int recording_policy(struct precopy_stats stats, void *data)
{
    int d = helper_policy(stats, data);

    if ( result.n < MAX_CALLS ) {
        result.sent[result.n] = stats;
        result.got[result.n] = d;
    }
    result.n++;
    return d;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static long maxrss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int ipc_xc_domain_save(xc_interface *xch, int io_fd, uint32_t dom,
                       uint32_t flags, struct save_callbacks *cb,
                       xc_stream_type_t stream_type, int recv_fd)
{
    static double t[BENCH_CALLS];
    unsigned int i;
    int rc = 0, err = 0;

    result.have_policy = !!cb->precopy_policy;
    result.batches = cb->precopy_policy_batches;

    switch ( child_scenario ) {
    case MARSHAL:
        for ( i = 0; i < sizeof(marshal_stats) / sizeof(*marshal_stats);
              i++ ) {
            result.sent[i] = marshal_stats[i];
            result.got[i] = cb->precopy_policy(marshal_stats[i], cb->data);
        }
        result.n = i;
        break;

    case LOOP:
        if ( cb->precopy_policy ) {
            helper_policy = cb->precopy_policy;
            cb->precopy_policy = recording_policy;
        }
        rc = fake_domain_save(cb, true, &err);
        result.logdirty = fake.logdirty;
        result.suspended = fake.suspended;
        result.stale = fake_stale_pfns(&fake, NULL);
        result.pages_sent = fake.pages_sent;
        result.sent_stopcopy = fake.sent_stopcopy;
        result.stream_hash = fake.stream_hash;
        break;

    case BENCH:
        for ( i = 0; i < BENCH_CALLS; i++ ) {
            struct precopy_stats s = { i / 100, i * 1024UL, -1, 1024, 4096 };
            double t0 = now_us();

            cb->precopy_policy(s, cb->data);
            t[i] = now_us() - t0;
        }
        qsort(t, BENCH_CALLS, sizeof(*t), cmp_double);
        result.median_us = t[BENCH_CALLS / 2];
        break;

    case MANY: {
        long warm = 0;

        for ( i = 0; i < MANY_CALLS; i++ ) {
            struct precopy_stats s = { i / 64, i * 1024UL, -1, 1024,
                                       (i % 64) * 1024 + 1 };

            if ( i == MANY_WARMUP )
                warm = maxrss_kib();
            cb->precopy_policy(s, cb->data);
        }
        result.n = i;
        result.rss_growth_kib = maxrss_kib() - warm;
        break;
    }
    }

    result.rc = rc;
    result.err = err;
    if ( write(result_fd, &result, sizeof(result)) != sizeof(result) )
        abort();
    errno = err;
    return rc;
}

/* Stubs for the rest of what the helper links against. */
xc_interface *ipc_xc_interface_open(xentoollog_logger *logger,
                                    xentoollog_logger *dombuild_logger,
                                    unsigned open_flags)
{
    static char dummy;

    return (xc_interface *)&dummy;
}

int ipc_xc_interface_close(xc_interface *xch)
{
    return 0;
}

int ipc_xc_domain_restore(xc_interface *xch, int io_fd, uint32_t dom,
                          unsigned int store_evtchn,
                          unsigned long *store_mfn, uint32_t store_domid,
                          unsigned int console_evtchn,
                          unsigned long *console_mfn,
                          uint32_t console_domid,
                          xc_stream_type_t stream_type,
                          struct restore_callbacks *callbacks,
                          int send_back_fd)
{
    abort();
}

/*----- libxl's side: what the generated callout code calls -----*/

const libxl__srm_save_autogen_callbacks *
libxl__srm_callout_get_callbacks_save(void *user)
{
    return &((struct ipc *)user)->cbs;
}

const libxl__srm_restore_autogen_callbacks *
libxl__srm_callout_get_callbacks_restore(void *user)
{
    abort();
}

void libxl__srm_callout_sendreply(int r, void *user)
{
    struct ipc *ipc = user;

    if ( ipc->gone )
        return;
    if ( ipc->hangup_at && ipc->n == ipc->hangup_at ) {
        /* libxl goes away, having answered or not. */
        if ( !ipc->hangup_before_reply )
            assert_int_equal(write(ipc->to_helper, &r, sizeof(r)),
                             sizeof(r));
        close(ipc->to_helper);
        close(ipc->from_helper);
        ipc->gone = true;
        return;
    }
    assert_int_equal(write(ipc->to_helper, &r, sizeof(r)), sizeof(r));
}

void libxl__srm_callout_callback_log(uint32_t level, uint32_t errnoval,
                                     const char *context,
                                     const char *formatted, void *user)
{
}

void libxl__srm_callout_callback_progress(const char *context,
                                          const char *doing_what,
                                          unsigned long done,
                                          unsigned long total, void *user)
{
}

int libxl__srm_callout_callback_complete(int retval, int errnoval,
                                         void *user)
{
    struct ipc *ipc = user;

    ipc->completed = true;
    ipc->retval = retval;
    ipc->errnoval = errnoval;
    return 0;
}

static int parent_policy(struct precopy_stats stats, void *user)
{
    struct ipc *ipc = user;
    unsigned int n = ipc->n++;

    if ( n < MAX_CALLS )
        ipc->got[n] = stats;
    if ( ipc->scenario == MARSHAL )
        return marshal_answer(stats);
    if ( ipc->scenario == MANY ) {
        if ( ipc->n == MANY_WARMUP )
            ipc->rss_warm_kib = maxrss_kib();
        else if ( ipc->n == MANY_CALLS )
            ipc->rss_growth_kib = maxrss_kib() - ipc->rss_warm_kib;
    }
    if ( ipc->abort_at && ipc->n == ipc->abort_at )
        return XGS_POLICY_ABORT;
    if ( ipc->signal_at && ipc->n == ipc->signal_at ) {
        /* The helper is waiting for the reply by now. */
        usleep(20000);
        assert_int_equal(kill(ipc->pid, SIGTERM), 0);
        usleep(20000);
    }
    ipc->clock += 1000000;
    return libxl__precopy_decide(&ipc->params, NULL, &ipc->engine, &stats,
                                 ipc->clock);
}

static bool read_all(int fd, void *buf, size_t len)
{
    while ( len ) {
        ssize_t r = read(fd, buf, len);

        if ( r <= 0 )
            return false;
        buf = (char *)buf + r;
        len -= r;
    }
    return true;
}

/*
 * Runs the helper for a live save with a policy of ours, and plays libxl
 * until the helper is done or libxl goes away.  Returns the helper's wait
 * status.
 */
static int run_helper(struct ipc *ipc, struct child_result *res)
{
    int to[2], from[2], rp[2], status;
    unsigned cbflags;
    pid_t pid;
    char a[6][32];

    ipc->cbs.precopy_policy = ipc->no_policy ? NULL : parent_policy;
    libxl__precopy_state_init(&ipc->engine);
    cbflags = libxl__srm_callout_enumcallbacks_save(&ipc->cbs);
    assert_int_equal(pipe(to), 0);
    assert_int_equal(pipe(from), 0);
    assert_int_equal(pipe(rp), 0);
    child_scenario = ipc->scenario;

    pid = fork();
    assert_true(pid >= 0);
    if ( !pid ) {
        char *argv[] = {
            "libxl-save-helper", "--save-domain", a[0], a[1], a[2], a[3],
            a[4], a[5], "0", NULL,
        };

        /* As libxl does for its children. */
        signal(SIGPIPE, SIG_DFL);
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[1]);
        close(from[0]);
        close(rp[0]);
        result_fd = rp[1];
        /* The helper's io_fd and recv_fd: not used by the fake. */
        snprintf(a[0], sizeof(a[0]), "%d", 2);
        snprintf(a[1], sizeof(a[1]), "%d", -1);
        snprintf(a[2], sizeof(a[2]), "%u", 7);              /* domid */
        snprintf(a[3], sizeof(a[3]), "%u", XCFLAGS_LIVE);
        snprintf(a[4], sizeof(a[4]), "%u", cbflags);
        snprintf(a[5], sizeof(a[5]), "%u", XC_STREAM_PLAIN);
        argv[8] = (char[16]){ 0 };
        snprintf(argv[8], 16, "%u", ipc->batches);
        fake_init(2048);
        fake.workload = workload;
        save_helper_main(9, argv);
        _exit(99);                  /* main() exits */
    }

    close(to[0]);
    close(from[1]);
    close(rp[1]);
    ipc->pid = pid;
    ipc->to_helper = to[1];
    ipc->from_helper = from[0];
    cur = ipc;

    while ( !ipc->gone ) {
        uint16_t len;
        unsigned char msg[65536];

        if ( !read_all(ipc->from_helper, &len, sizeof(len)) )
            break;
        assert_true(read_all(ipc->from_helper, msg, len));
        assert_int_equal(libxl__srm_callout_received_save(msg, len, ipc),
                         1);
    }
    if ( !ipc->gone ) {
        close(ipc->to_helper);
        close(ipc->from_helper);
    }

    memset(res, 0, sizeof(*res));
    assert_true(read_all(rp[0], res, sizeof(*res)));
    close(rp[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

/*----- tests -----*/

/* Every field crosses the pipe unchanged, and so does any decision. */
static void test_marshal(void **state)
{
    struct ipc ipc = { .scenario = MARSHAL, .batches = 3 };
    struct child_result res;
    unsigned int i, n = sizeof(marshal_stats) / sizeof(*marshal_stats);
    int status = run_helper(&ipc, &res);

    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(res.have_policy);
    assert_int_equal(res.batches, 3);
    assert_int_equal(ipc.n, n);
    assert_int_equal(res.n, n);
    for ( i = 0; i < n; i++ ) {
        assert_int_equal(ipc.got[i].iteration, marshal_stats[i].iteration);
        assert_int_equal(ipc.got[i].total_written,
                         marshal_stats[i].total_written);
        assert_int_equal(ipc.got[i].dirty_count,
                         marshal_stats[i].dirty_count);
        assert_int_equal(ipc.got[i].round_written,
                         marshal_stats[i].round_written);
        assert_int_equal(ipc.got[i].round_remaining,
                         marshal_stats[i].round_remaining);
        assert_int_equal(res.got[i], marshal_answer(marshal_stats[i]));
    }
    assert_true(ipc.completed);
}

/* The default rule, in-process with no policy, as the reference. */
static void reference_run(struct child_result *ref)
{
    struct save_callbacks cb = { 0 };
    int err;

    fake_init(2048);
    fake.workload = workload;
    ref->rc = fake_domain_save(&cb, true, &err);
    ref->pages_sent = fake.pages_sent;
    ref->sent_stopcopy = fake.sent_stopcopy;
    ref->stream_hash = fake.stream_hash;
    fake_fini();
}

/*
 * Without a policy from libxl, the helper installs none: the stream is
 * that of libxenguest's default policy, and a closed pipe is not noticed
 * until the helper next writes (today's behaviour).
 */
static void test_no_policy(void **state)
{
    struct ipc ipc = { .scenario = LOOP, .batches = 4, .no_policy = true };
    struct child_result res, ref;
    int status;

    reference_run(&ref);
    status = run_helper(&ipc, &res);
    assert_true(WIFEXITED(status) && !WEXITSTATUS(status));
    assert_false(res.have_policy);
    assert_int_equal(res.batches, 0);
    assert_int_equal(res.rc, 0);
    assert_int_equal(ipc.n, 0);
    assert_int_equal(res.stale, 0);
    assert_int_equal(res.stream_hash, ref.stream_hash);
    assert_int_equal(res.pages_sent, ref.pages_sent);
}

/*
 * The real loop, its policy the engine across the pipe with nothing set:
 * the same stream as with libxenguest's own default policy.
 */
static void test_loop_default(void **state)
{
    struct ipc ipc = { .scenario = LOOP, .batches = 1 };
    struct child_result res, ref;
    int status;

    reference_run(&ref);
    assert_int_equal(ref.rc, 0);

    status = run_helper(&ipc, &res);
    assert_true(WIFEXITED(status) && !WEXITSTATUS(status));
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.batches, 1);
    assert_int_equal(res.stale, 0);
    assert_false(res.logdirty);
    assert_int_equal(res.pages_sent, ref.pages_sent);
    assert_int_equal(res.sent_stopcopy, ref.sent_stopcopy);
    assert_int_equal(res.stream_hash, ref.stream_hash);
    /* 5 rounds: before and after each, and mid-round in each. */
    assert_true(ipc.n > 10);
    assert_int_equal(ipc.n, res.n);
    assert_int_equal(res.got[res.n - 1], XGS_POLICY_STOP_AND_COPY);
    assert_true(ipc.completed);
    assert_int_equal(ipc.retval, 0);
}

/* ABORT from libxl: the save fails, ECANCELED, guest never suspended. */
static void test_loop_abort(void **state)
{
    struct ipc ipc = { .scenario = LOOP, .batches = 0, .abort_at = 3 };
    struct child_result res;
    int status = run_helper(&ipc, &res);

    assert_true(WIFEXITED(status) && !WEXITSTATUS(status));
    assert_int_equal(ipc.n, 3);
    assert_int_equal(res.rc, -1);
    assert_int_equal(res.err, ECANCELED);
    assert_false(res.suspended);
    assert_false(res.logdirty);
    assert_true(ipc.completed);
    assert_int_equal(ipc.retval, -1);
    assert_int_equal(ipc.errnoval, ECANCELED);
}

/*
 * libxl stops the helper with SIGTERM while the helper waits for the reply
 * to a callback: the helper must go on waiting (and libxenguest fail its
 * next write, into the fd the signal handler made unwritable; the stub
 * layer's stream has no fd, so here the save goes on), not take the
 * interrupted read for libxl having gone and exit from inside libxc.
 */
static void test_signal_during_reply(void **state)
{
    struct ipc ipc = { .scenario = LOOP, .batches = 1, .signal_at = 2 };
    struct child_result res;
    int status = run_helper(&ipc, &res);

    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(ipc.n > 2);
    assert_int_equal(res.n, ipc.n);
    assert_int_equal(res.rc, 0);
    assert_int_equal(res.stale, 0);
    assert_true(ipc.completed);
}

#ifdef IPC_HAVE_ORPHAN
/*
 * libxl goes away mid-precopy, before or after answering: the helper
 * aborts the save (log-dirty off, guest never suspended) and exits
 * normally, neither killed by SIGPIPE nor leaving from inside libxc.
 */
static void test_loop_orphaned(void **state)
{
    static const struct { int at; bool before_reply; } t[] = {
        { 1, true }, { 3, true }, { 3, false }, { 4, false },
    };
    unsigned int i;

    for ( i = 0; i < sizeof(t) / sizeof(*t); i++ ) {
        struct ipc ipc = {
            .scenario = LOOP, .batches = 1,
            .hangup_at = t[i].at, .hangup_before_reply = t[i].before_reply,
        };
        struct child_result res;
        int status = run_helper(&ipc, &res);

        assert_false(WIFSIGNALED(status));
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(res.rc, -1);
        assert_int_equal(res.err, ECANCELED);
        assert_false(res.suspended);
        assert_false(res.logdirty);
        /* The helper asked once more at most, and got ABORT itself. */
        assert_true(res.n >= ipc.n && res.n <= ipc.n + 1);
        assert_int_equal(res.got[res.n - 1], XGS_POLICY_ABORT);
        assert_false(ipc.completed);
    }
}
#endif /* IPC_HAVE_ORPHAN */

/*
 * 100,000 consultations: neither side's memory grows (after a warm-up),
 * so nothing is kept per consultation on the message path or by the
 * engine.
 */
static void test_memory_flat(void **state)
{
    struct ipc ipc = { .scenario = MANY };
    struct child_result res;
    int status = run_helper(&ipc, &res);

    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(ipc.n, MANY_CALLS);
    assert_int_equal(res.n, MANY_CALLS);
    print_message("memory over %d consultations: libxl's side +%ld KiB, "
                  "the helper's +%ld KiB\n", MANY_CALLS - MANY_WARMUP,
                  ipc.rss_growth_kib, res.rss_growth_kib);
#ifndef __SANITIZE_ADDRESS__
    /* (ASan's quarantine keeps freed memory: there the figures grow.) */
    assert_true(ipc.rss_growth_kib <= 64);
    assert_true(res.rss_growth_kib <= 64);
#endif
}

static void bench(void)
{
    struct ipc ipc = { .scenario = BENCH };
    struct child_result res;
    int status = run_helper(&ipc, &res);

    if ( !WIFEXITED(status) || WEXITSTATUS(status) || ipc.n != BENCH_CALLS ) {
        fprintf(stderr, "ipc benchmark: the helper failed\n");
        exit(1);
    }
    printf("ipc benchmark: precopy policy round trip through "
           "libxl-save-helper's message path (helper stub, pipe, generated "
           "callout, policy engine, reply), %d calls: median %.1f us "
           "(goal <= 20 us)\n", BENCH_CALLS, res.median_us);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_marshal),
        cmocka_unit_test(test_no_policy),
        cmocka_unit_test(test_loop_default),
        cmocka_unit_test(test_loop_abort),
        cmocka_unit_test(test_signal_during_reply),
        cmocka_unit_test(test_memory_flat),
#ifdef IPC_HAVE_ORPHAN
        cmocka_unit_test(test_loop_orphaned),
#endif
    };

    /* libxl's side: a helper gone is an error (EPIPE), not death. */
    signal(SIGPIPE, SIG_IGN);

    if ( argc > 1 && !strcmp(argv[1], "--bench") ) {
        bench();
        return 0;
    }
    return cmocka_run_group_tests_name("precopy ipc", tests, NULL, NULL);
}
