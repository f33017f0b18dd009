/* SPDX-License-Identifier: LGPL-2.1-only */
/*
 * The precopy glue of libxl_dom_save.c: the tree's own file, included
 * here so that its static functions are reachable (as Xen's
 * tools/tests/vpci reaches vpci.c's), compiled with
 * -Dclock_gettime=fake_clock_gettime, on fakexen/fake_libxl.c (xenstore
 * and its transactions, carefds over real fds, a run directory of the
 * test's own so that flock() is real, the watch, the domain, what the
 * glue calls of the rest of a save) and with the tree's policy engine and
 * throttle.  Anything of a save beyond the glue fails the test
 * (fakexen/fake_libxl_unreached.c).
 *
 * Five tables: the save's lock (libxl__precopy_control_init() against a
 * second save, another process, libxl_domain_precopy_control()'s
 * momentary shared lock, libxl-save-helper holding it, a stale mark),
 * libxl_domain_precopy_control() in each phase of a save, the end of
 * precopy (domain_save_precopy_suspend(): a late abort taken in the same
 * transaction as the phase), what libxl learns of the switchover (hostile
 * nodes, a guest slow to suspend), and the policy callback
 * (domain_save_precopy_policy(): a clock failure, an abort, the last
 * round).  Each row is checked in full; a failing row prints its name,
 * what was expected and what happened, and the table fails at its end.
 *
 * A row which needs a patch of the series is built only when the tree has
 * it (TEST_HAVE_*, probed by the Makefile); TEST_SAVE_ALL_ROWS builds
 * them all, to show which fail on a tree without the patch.
 */
#include "libxl_dom_save.c"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake_libxl.h"

#ifdef TEST_SAVE_ALL_ROWS
/* Every row, whatever the tree has (its own rules still compiled in). */
#define ROWS_OWNER          /* patch 29: the helper holds the lock */
#define ROWS_LOCK_RETRY     /* patch 30: ERROR_LOCK_FAIL, a retry */
#define ROWS_END_ABORTED    /* patch 31: the abort at precopy's end */
#define ROWS_END_XS_FAILS   /* patch 31: ... and xenstore failing there */
#define ROWS_LEARN          /* patch 33: dom0's share, robustly */
#else
#ifdef TEST_HAVE_SAVE_OWNER
#define ROWS_OWNER
#endif
#ifdef TEST_HAVE_LOCK_RETRY
#define ROWS_LOCK_RETRY
#endif
#ifdef TEST_HAVE_END_ABORTED
#define ROWS_END_ABORTED
#endif
#ifdef TEST_HAVE_END_XS_FAILS
#define ROWS_END_XS_FAILS
#endif
#ifdef TEST_HAVE_SWITCHOVER_LEARN
#define ROWS_LEARN
#endif
#endif

/* What a refused save returns. */
#ifdef ROWS_LOCK_RETRY
#define REFUSED ERROR_LOCK_FAIL
#else
#define REFUSED ERROR_FAIL
#endif

#define DOMID 7
#define P "/libxl/7/precopy"
#define RECORD "/libxl/7/precopy-throttle"
#define SENDER "/libxl/precopy-switchover-ms"
#define RECEIVER "/libxl/precopy-switchover-receiver-ms"
#define NS 1000000000ULL
#define MS 1000000ULL

static char run_dir[] = "/tmp/test_save.XXXXXX";
static libxl__egc egc;
static libxl_domain_precopy_params params;
static libxl__domain_save_state dss, dss2;
static char mypid[16];

/*----- a table's rows: each check, and the failures -----*/

static unsigned int failed_rows, failed_checks;
static bool row_failed;
static const char *row;

static void row_begin(const char *name)
{
    row = name;
    row_failed = false;
}

static void row_fail(const char *what, const char *fmt, ...)
{
    va_list ap;

    printf("FAIL row \"%s\": %s: ", row, what);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    failed_checks++;
    row_failed = true;
}

static void check_int(const char *what, long long expected, long long actual)
{
    if (expected != actual)
        row_fail(what, "expected %lld, got %lld", expected, actual);
}

/* A node's value: expected NULL for none. */
static void check_node(const char *path, const char *expected)
{
    const char *v = fake_xs_get(path);

    if (expected ? !v || strcmp(v, expected) : v != NULL)
        row_fail(path, "expected %s%s%s, got %s%s%s",
                 expected ? "\"" : "", expected ? expected : "(none)",
                 expected ? "\"" : "", v ? "\"" : "", v ? v : "(none)",
                 v ? "\"" : "");
}

static void check_log(const char *text)
{
    if (!strstr(fake_libxl.log, text))
        row_fail("the log", "expected a line with \"%s\"", text);
}

static void row_end(void)
{
    if (fake_libxl.carefds)
        row_fail("carefds", "expected all closed, %u open",
                 fake_libxl.carefds);
    if (fake_libxl.xs_in_transaction)
        row_fail("xenstore", "a transaction left open");
    if (row_failed) {
        failed_rows++;
        printf("  (its log:)\n%s", fake_libxl.log);
    }
    fflush(stdout);
}

static void table_end(const char *table)
{
    unsigned int rows = failed_rows, checks = failed_checks;

    failed_rows = failed_checks = 0;
    if (rows)
        fail_msg("%s: %u rows failed (%u checks): see above", table, rows,
                 checks);
}

/*----- the model: a domain, a save's state, other processes -----*/

static void dss_init(libxl__domain_save_state *d)
{
    memset(d, 0, sizeof(*d));
    d->domid = DOMID;
    d->precopy = &params;
    d->sws.shs.caller_state = d;
    d->sws.shs.egc = &egc;
    libxl__ev_xswatch_init(&d->precopy_watch);
}

static void die(libxl__domain_save_state *d);

static void reset(void)
{
    /* What a row which failed half-way left. */
    die(&dss);
    die(&dss2);
    fake_libxl_reset(LIBXL_SCHEDULER_CREDIT2, 0);
    memset(&params, 0, sizeof(params));
    dss_init(&dss);
    dss_init(&dss2);
    memset(&egc, 0, sizeof(egc));
    LIBXL_INIT_GC(egc.gc, fake_ctx());
}

static int init(libxl__domain_save_state *d)
{
    return libxl__precopy_control_init(fake_gc(), d);
}

static void fini(libxl__domain_save_state *d)
{
    libxl__precopy_control_fini(fake_gc(), d);
}

/* The save's process dies: its fds close, nothing else is undone. */
static void die(libxl__domain_save_state *d)
{
    libxl__carefd_close(d->precopy_lock);
    d->precopy_lock = NULL;
#ifdef TEST_HAVE_SAVE_OWNER
    libxl__carefd_close(d->precopy_owner);
    d->precopy_owner = NULL;
#endif
    libxl__ev_xswatch_deregister(fake_gc(), &d->precopy_watch);
}

static int control(libxl_precopy_command cmd, uint32_t downtime_ms)
{
    return libxl_domain_precopy_control(fake_ctx(), DOMID, cmd,
                                        downtime_ms);
}

/* Another process, which has precopy-7.<which> locked with op. */
struct child {
    pid_t pid;
    int ctl;            /* a line, or closed: the child exits */
    bool timed;         /* it exits by itself */
};

static void close_fds_but(int a, int b)
{
    int fd;

    for (fd = 3; fd < 1024; fd++)
        if (fd != a && fd != b)
            close(fd);
}

/* hold_ms: the child releases the lock after so long; 0: at child_end(). */
static void child_lock(struct child *c, const char *which, int op,
                       unsigned int hold_ms)
{
    int ready[2], ctl[2];
    char b;

    if (pipe(ready) || pipe(ctl))
        fail_msg("pipe: %s", strerror(errno));
    c->pid = fork();
    if (c->pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (!c->pid) {
        char path[128];
        int fd;

        close_fds_but(ready[1], ctl[0]);
        snprintf(path, sizeof(path), "%s/precopy-%u.%s", run_dir, DOMID,
                 which);
        fd = open(path, O_RDWR | O_CREAT, 0600);
        if (fd < 0 || flock(fd, op | LOCK_NB))
            _exit(2);
        if (write(ready[1], "x", 1) != 1)
            _exit(3);
        if (hold_ms)
            usleep(hold_ms * 1000);
        else if (read(ctl[0], &b, 1) < 0)
            _exit(4);
        _exit(0);
    }
    close(ready[1]);
    close(ctl[0]);
    if (read(ready[0], &b, 1) != 1)
        fail_msg("the child did not take its lock on %s", which);
    close(ready[0]);
    c->ctl = ctl[1];
    c->timed = hold_ms;
}

static void child_end(struct child *c)
{
    int status;

    /* (a line for the helper's "read x", which exits 1 at EOF) */
    if (!c->timed && write(c->ctl, "\n", 1) != 1)
        fail_msg("%s: the child has gone early", row);
    close(c->ctl);
    if (waitpid(c->pid, &status, 0) != c->pid || !WIFEXITED(status) ||
        WEXITSTATUS(status))
        fail_msg("%s: the child locking did not exit normally: %#x", row,
                 status);
}

/*
 * libxl-save-helper: fork and exec, keeping what libxl_save_callout.c's
 * run_helper() preserves of d (its lock, since patch 29); every other fd
 * libxl opened is close-on-exec.  Returns once the exec is done.
 */
static void helper_start(struct child *c, libxl__domain_save_state *d)
{
    int ready[2], ctl[2];
    char b;

    if (pipe2(ready, O_CLOEXEC) || pipe2(ctl, O_CLOEXEC))
        fail_msg("pipe: %s", strerror(errno));
    c->pid = fork();
    if (c->pid < 0)
        fail_msg("fork: %s", strerror(errno));
    if (!c->pid) {
        if (dup2(ctl[0], 0) < 0)
            _exit(2);
#ifdef TEST_HAVE_HELPER_LOCK
        if (fcntl(libxl__carefd_fd(d->precopy_lock), F_SETFD, 0))
            _exit(3);
#endif
        execl("/bin/sh", "sh", "-c", "read x", (char *)NULL);
        _exit(127);
    }
    close(ready[1]);
    close(ctl[0]);
    /* EOF once the exec closed the write end. */
    if (read(ready[0], &b, 1) != 0)
        fail_msg("the helper did not exec");
    close(ready[0]);
    c->ctl = ctl[1];
    c->timed = false;
}

/* A pid no process has. */
static pid_t dead_pid(void)
{
    pid_t pid = fork();

    if (!pid)
        _exit(0);
    waitpid(pid, NULL, 0);
    return pid;
}

/*----- the lock -----*/

enum lock_how {
    L_SECOND_INIT,      /* a second save while the first holds it */
    L_OTHER_EX,         /* another process's save holds it */
    L_OTHER_SH_BRIEF,   /* a migrate-ctl holds it shared, ~100 ms */
    L_INHERITED,        /* the first's helper, the first gone */
    L_STALE_DEAD,       /* a mark by a process now dead, no lock */
    L_STALE_REUSED,     /* a mark with this process's pid, no lock */
};

static const struct lock_row {
    const char *name;
    enum lock_how how;
    int rc;             /* what init of the save under test returns */
} lock_rows[] = {
    { "a second save while the first holds the locks", L_SECOND_INIT,
      REFUSED },
    { "another process holds the lock (LOCK_EX)", L_OTHER_EX, REFUSED },
#ifdef ROWS_LOCK_RETRY
    { "a migrate-ctl holds it shared for 100 ms: init retries",
      L_OTHER_SH_BRIEF, 0 },
#endif
#ifdef ROWS_OWNER
    { "the helper inherited the lock, its save ended: refused until it "
      "exits", L_INHERITED, REFUSED },
#endif
    { "a stale mark by a dead pid, no lock", L_STALE_DEAD, 0 },
    { "a stale mark with our own pid (an earlier save), no lock",
      L_STALE_REUSED, 0 },
};

static void test_lock(void **state)
{
    unsigned int i;

    for (i = 0; i < sizeof(lock_rows) / sizeof(lock_rows[0]); i++) {
        const struct lock_row *r = &lock_rows[i];
        struct child c;
        char other[16];
        int rc;

        reset();
        row_begin(r->name);
        switch (r->how) {
        case L_SECOND_INIT:
            check_int("the first save's init", 0, init(&dss));
            check_int("a command to the first", 0,
                      control(LIBXL_PRECOPY_COMMAND_DOWNTIME, 500));
            rc = init(&dss2);
            check_int("the second save's init", r->rc, rc);
            if (!rc)
                fini(&dss2);
            /* The first's mark, and its watch, untouched. */
            check_node(P "/pid", mypid);
            check_node(P "/phase", "precopy");
            check_node(P "/downtime-ms", "500");
            check_int("the first's watch still registered", 1,
                      fake_libxl.watch == &dss.precopy_watch);
            check_int("the first still takes commands", 0,
                      control(LIBXL_PRECOPY_COMMAND_SWITCHOVER, 0));
            check_log("already being saved");
            fini(&dss);
            check_node(P "/pid", NULL);
            break;
        case L_OTHER_EX:
            fake_xs_set(P "/pid", "4242");
            fake_xs_set(P "/phase", "precopy");
            child_lock(&c, "lock", LOCK_EX, 0);
            rc = init(&dss);
            check_int("init", r->rc, rc);
            if (!rc)
                fini(&dss);
            check_node(P "/pid", "4242");
            check_node(P "/phase", "precopy");
            check_log("4242");
            child_end(&c);
            check_int("init once the other has gone", 0, init(&dss));
            check_node(P "/pid", mypid);
            fini(&dss);
            break;
        case L_OTHER_SH_BRIEF:
            child_lock(&c, "lock", LOCK_SH, 100);
            rc = init(&dss);
            check_int("init", r->rc, rc);
            check_node(P "/pid", rc ? NULL : mypid);
            if (!rc)
                fini(&dss);
            child_end(&c);
            break;
        case L_INHERITED:
            check_int("the first save's init", 0, init(&dss));
            helper_start(&c, &dss);
            fini(&dss);
            rc = init(&dss2);
            check_int("a new save while the helper runs", r->rc, rc);
            if (!rc)
                fini(&dss2);
            child_end(&c);
            check_int("a new save once the helper has gone", 0,
                      init(&dss2));
            fini(&dss2);
            break;
        case L_STALE_DEAD:
            snprintf(other, sizeof(other), "%ld", (long)dead_pid());
            fake_xs_set(P "/pid", other);
            fake_xs_set(P "/phase", "stop-and-copy");
            fake_xs_set(P "/abort", "1");
            check_int("init", r->rc, init(&dss));
            check_node(P "/pid", mypid);
            check_node(P "/phase", "precopy");
            check_node(P "/abort", NULL);
            fini(&dss);
            break;
        case L_STALE_REUSED:
            fake_xs_set(P "/pid", mypid);
            fake_xs_set(P "/phase", "aborted");
            fake_xs_set(P "/switchover", "1");
            check_int("init", r->rc, init(&dss));
            check_node(P "/pid", mypid);
            check_node(P "/phase", "precopy");
            check_node(P "/switchover", NULL);
            fini(&dss);
            break;
        }
        row_end();
    }
    table_end("the lock");
}

/*----- libxl_domain_precopy_control() in each phase -----*/

enum ctl_how {
    C_NO_SAVE,
    C_PRECOPY,          /* a save in precopy */
    C_PHASE,            /* a save, its phase then set to ->phase */
    C_CONFLICT,         /* precopy; the first commit conflicts with a
                         * writer setting the phase to ->phase */
    C_WRITE_FAILS,      /* precopy; the command's write fails */
    C_ORPHAN,           /* the save's process died, its helper holds the
                         * lock */
    C_THROTTLED_DIED,   /* a save throttled the domain and died */
    C_NO_DOMAIN,
};

static const struct ctl_row {
    const char *name;
    enum ctl_how how;
    const char *phase;
    libxl_precopy_command cmd;
    uint32_t downtime_ms;
    int rc;
    const char *node, *value;   /* the node after (value NULL: none) */
    const char *log;            /* a line with this in the log */
} ctl_rows[] = {
    { "no save", C_NO_SAVE, NULL, LIBXL_PRECOPY_COMMAND_ABORT, 0,
      ERROR_NOTFOUND, P "/abort", NULL, "not being migrated" },
    { "precopy: abort", C_PRECOPY, NULL, LIBXL_PRECOPY_COMMAND_ABORT, 0,
      0, P "/abort", "1", NULL },
    { "precopy: switchover", C_PRECOPY, NULL,
      LIBXL_PRECOPY_COMMAND_SWITCHOVER, 0, 0, P "/switchover", "1", NULL },
    { "precopy: downtime 250", C_PRECOPY, NULL,
      LIBXL_PRECOPY_COMMAND_DOWNTIME, 250, 0, P "/downtime-ms", "250",
      NULL },
#ifdef TEST_HAVE_SAVE_THROTTLE
    { "precopy: unthrottle", C_PRECOPY, NULL,
      LIBXL_PRECOPY_COMMAND_UNTHROTTLE, 0, 0, P "/no-throttle", "1", NULL },
#endif
    { "precopy: downtime 0", C_PRECOPY, NULL,
      LIBXL_PRECOPY_COMMAND_DOWNTIME, 0, ERROR_INVAL, P "/downtime-ms",
      NULL, "above 0" },
    { "precopy: a command that does not exist", C_PRECOPY, NULL,
      (libxl_precopy_command)99, 0, ERROR_INVAL, P "/abort", NULL,
      "unknown precopy command 99" },
    { "stop-and-copy: abort", C_PHASE, "stop-and-copy",
      LIBXL_PRECOPY_COMMAND_ABORT, 0, ERROR_FAIL, P "/abort", NULL,
      "past precopy (stop-and-copy)" },
    { "stop-and-copy: downtime", C_PHASE, "stop-and-copy",
      LIBXL_PRECOPY_COMMAND_DOWNTIME, 100, ERROR_FAIL, P "/downtime-ms",
      NULL, "past precopy (stop-and-copy)" },
    { "aborted: switchover", C_PHASE, "aborted",
      LIBXL_PRECOPY_COMMAND_SWITCHOVER, 0, ERROR_FAIL, P "/switchover",
      NULL, "past precopy (aborted)" },
    { "precopy, a conflict: retried, taken", C_CONFLICT, "precopy",
      LIBXL_PRECOPY_COMMAND_ABORT, 0, 0, P "/abort", "1", NULL },
    { "precopy, a conflict with the save's stop-and-copy: refused",
      C_CONFLICT, "stop-and-copy", LIBXL_PRECOPY_COMMAND_ABORT, 0,
      ERROR_FAIL, P "/abort", NULL, "past precopy (stop-and-copy)" },
    { "precopy: the command's write fails", C_WRITE_FAILS, NULL,
      LIBXL_PRECOPY_COMMAND_ABORT, 0, ERROR_FAIL, P "/abort", NULL, NULL },
#ifdef ROWS_OWNER
    { "the owner died, its helper holds the lock: abort", C_ORPHAN, NULL,
      LIBXL_PRECOPY_COMMAND_ABORT, 0, ERROR_FAIL, P "/abort", NULL,
      "has died" },
#ifdef TEST_HAVE_SAVE_THROTTLE
    { "the owner died, its helper holds the lock: unthrottle", C_ORPHAN,
      NULL, LIBXL_PRECOPY_COMMAND_UNTHROTTLE, 0, ERROR_FAIL,
      P "/no-throttle", NULL, "has died" },
#endif
#endif
#ifdef TEST_HAVE_SAVE_THROTTLE
    { "no save, a throttle left by one: unthrottle restores",
      C_THROTTLED_DIED, NULL, LIBXL_PRECOPY_COMMAND_UNTHROTTLE, 0, 0,
      RECORD, NULL, NULL },
    { "no save, no throttle left: unthrottle", C_NO_SAVE, NULL,
      LIBXL_PRECOPY_COMMAND_UNTHROTTLE, 0, ERROR_NOTFOUND, P "/no-throttle",
      NULL, "nor left throttled" },
#endif
    { "no such domain", C_NO_DOMAIN, NULL, LIBXL_PRECOPY_COMMAND_ABORT, 0,
      ERROR_DOMAIN_NOTFOUND, P "/abort", NULL, "no such domain" },
};

static const char *conflict_phase;

static void conflict_set_phase(void)
{
    fake_xs_set(P "/phase", conflict_phase);
}

#ifdef TEST_HAVE_SAVE_THROTTLE
/* A save with auto-converge which has capped the domain (own cap 60) to
 * 30. */
static void throttle(libxl__domain_save_state *d)
{
    fake_libxl.cap = 60;
    params.auto_converge = true;
    params.downtime_ms = 300;
    if (domain_save_precopy_setup(fake_gc(), d))
        fail_msg("%s: precopy setup failed\n%s", row, fake_libxl.log);
    d->precopy_state.throttle_pct = 50;
    d->precopy_state.throttle_reason = LIBXL__PRECOPY_T_RAISED;
    libxl__precopy_throttle_apply(fake_gc(), d);
    check_int("the cap throttled", 30, fake_libxl.cap);
}
#endif

static void test_control(void **state)
{
    unsigned int i;

    for (i = 0; i < sizeof(ctl_rows) / sizeof(ctl_rows[0]); i++) {
        const struct ctl_row *r = &ctl_rows[i];
        struct child c = { 0 };
        bool saving = r->how != C_NO_SAVE && r->how != C_NO_DOMAIN;

        reset();
        row_begin(r->name);
        if (saving)
            check_int("init", 0, init(&dss));
        switch (r->how) {
        case C_PHASE:
            fake_xs_set(P "/phase", r->phase);
            break;
        case C_CONFLICT:
            conflict_phase = r->phase;
            fake_libxl.conflict = conflict_set_phase;
            fake_libxl.xs_conflicts = 1;
            break;
        case C_WRITE_FAILS:
            fake_libxl.fail_xs_write_path = r->node;
            break;
        case C_ORPHAN:
            /* The save's process dies; its helper, which inherited the
             * lock alone, still holds it. */
            die(&dss);
            child_lock(&c, "lock", LOCK_EX, 0);
            break;
        case C_THROTTLED_DIED:
#ifdef TEST_HAVE_SAVE_THROTTLE
            throttle(&dss);
#endif
            die(&dss);
            break;
        case C_NO_DOMAIN:
            fake_libxl.no_domain = true;
            break;
        default:
            break;
        }
        fake_libxl.xs_transactions = 0;
        check_int("rc", r->rc, control(r->cmd, r->downtime_ms));
        fake_libxl.fail_xs_write_path = NULL;
        check_node(r->node, r->value);
        if (r->log)
            check_log(r->log);
        if (r->how == C_CONFLICT)
            check_int("transactions", 2, fake_libxl.xs_transactions);
        if (r->how == C_THROTTLED_DIED)
            check_int("the domain's own cap back", 60, fake_libxl.cap);
        if (r->how == C_ORPHAN)
            child_end(&c);
        if (saving)
            fini(&dss);
        row_end();
    }
    table_end("libxl_domain_precopy_control()");
}

/*----- the end of precopy: domain_save_precopy_suspend() -----*/

static const struct end_row {
    const char *name;
    bool abort_node;            /* written since the last consultation */
    bool abort_seen;            /* ... and the watch has fired */
    unsigned int conflicts;     /* the first commits conflict */
    bool abort_in_conflict;     /* written by the conflicting writer */
    bool aborted;
    bool phase_fails;           /* the phase's write fails */
} end_rows[] = {
    { "no abort: stop and copy", false, false, 0, false, false },
#ifdef ROWS_END_ABORTED
    { "an abort written after the last consultation", true, false, 0,
      false, true },
    { "an abort the watch has seen since the last consultation", true,
      true, 0, false, true },
    { "a conflict on the first try, no abort: retried", false, false, 1,
      false, false },
    { "a conflict, the abort written by the other writer: retried, "
      "taken", false, false, 1, true, true },
    { "two conflicts, an abort before: retried, taken", true, false, 2,
      false, true },
#endif
#ifdef ROWS_END_XS_FAILS
    /* Nothing recorded: a command could be accepted and ignored. */
    { "the phase's write fails: the domain not suspended", false, false,
      0, false, false, true },
#endif
};

static void conflict_abort(void)
{
    fake_xs_set(P "/abort", "1");
}

/* A save in precopy, its policy installed. */
static libxl__srm_save_autogen_callbacks *save_setup(void)
{
    check_int("init", 0, init(&dss));
    check_int("precopy setup", 0, domain_save_precopy_setup(fake_gc(), &dss));
    return &dss.sws.shs.callbacks.save.a;
}

static void test_end(void **state)
{
    unsigned int i;

    for (i = 0; i < sizeof(end_rows) / sizeof(end_rows[0]); i++) {
        const struct end_row *r = &end_rows[i];
        libxl__srm_save_autogen_callbacks *cb;

        reset();
        row_begin(r->name);
        cb = save_setup();
        if (r->abort_node)
            check_int("the abort command", 0,
                      control(LIBXL_PRECOPY_COMMAND_ABORT, 0));
        if (r->abort_seen)
            fake_xs_fire_watch(&egc, P "/abort");
        fake_libxl.xs_conflicts = r->conflicts;
        fake_libxl.conflict = r->abort_in_conflict ? conflict_abort : NULL;
        fake_libxl.xs_transactions = 0;
        if (r->phase_fails)
            fake_libxl.fail_xs_write_path = P "/phase";
        cb->suspend(&dss.sws.shs);
        fake_libxl.fail_xs_write_path = NULL;
        check_node(P "/phase", r->phase_fails ? "precopy" :
                   r->aborted ? "aborted" : "stop-and-copy");
        check_int("precopy_aborted", r->aborted, dss.precopy_aborted);
        check_int("libxl__domain_suspend calls",
                  !r->aborted && !r->phase_fails, fake_libxl.suspends);
        check_int("the helper's callback completed",
                  r->aborted || r->phase_fails, fake_libxl.callback_done);
        if (r->phase_fails) {
            check_int("with", 0, fake_libxl.callback_done_value);
            check_log("cannot record the end of precopy");
            fini(&dss);
            row_end();
            continue;
        }
        if (r->aborted) {
            check_int("with", 0, fake_libxl.callback_done_value);
        } else {
#ifdef TEST_HAVE_SAVE_LEARN
            /* The guest suspended: the helper goes on with the copy (the
             * glue's own callback since patch 15). */
            dss.dsps.callback_common_done(&egc, &dss.dsps, 0);
            check_int("the helper's callback, once suspended", 1,
                      fake_libxl.callback_done);
            check_int("with", 1, fake_libxl.callback_done_value);
#endif
        }
        if (r->conflicts)
            check_int("transactions", r->conflicts + 1,
                      fake_libxl.xs_transactions);
        /* Too late now for any command. */
        check_int("a command now", ERROR_FAIL,
                  control(LIBXL_PRECOPY_COMMAND_SWITCHOVER, 0));
        check_node(P "/switchover", NULL);
        fini(&dss);
        row_end();
    }
    table_end("the end of precopy");
}

#ifdef TEST_HAVE_SAVE_LEARN
/* A save whose guest takes suspend_ms to suspend, and dom0 device_ms to
 * send its device state: what libxl__precopy_save_done() then learns. */
static uint32_t a_save_counted;      /* the switchover it counted */

static void a_save(uint64_t suspend_ms, uint64_t device_ms, int rc)
{
    libxl__srm_save_autogen_callbacks *cb;

    dss_init(&dss);
    cb = save_setup();
    fake_libxl.clock_ns = 1000 * NS;
    cb->suspend(&dss.sws.shs);
    fake_libxl.clock_ns += suspend_ms * MS;
    dss.dsps.callback_common_done(&egc, &dss.dsps, 0);
    fake_libxl.clock_ns += 1000 * MS;   /* the memory left */
    libxl__precopy_helper_done(&dss);
    fake_libxl.clock_ns += device_ms * MS;
#ifdef TEST_HAVE_SAVE_EVENT
    libxl__precopy_save_done(&egc, &dss, rc);
#else
    libxl__precopy_save_done(fake_gc(), &dss, rc);
#endif
    a_save_counted = dss.precopy_params.switchover_ms;
    fake_libxl.clock_ns = 0;
    fini(&dss);
}
#endif

/*----- what libxl learns of the switchover -----*/

#if defined(TEST_HAVE_SAVE_LEARN) && !defined(TEST_HAVE_SAVE_EVENT)
/* 2000 ms at most for each share, and the guest's 100 ms. */
#define SWITCHOVER_BOUND (2 * 2000 + 100)

static char list50[50 * 5 + 1];

static const struct learn_row {
    const char *name;
    const char *sender, *receiver;      /* the nodes, NULL for none */
    bool warned;                        /* a line says what was ignored */
    uint32_t switchover;                /* with patch 33; 0: not checked */
} learn_rows[] = {
    { "no nodes (control)", NULL, NULL, false, 100 },
    { "300 and 200 (control)", "300", "200", false, 600 },
#ifdef ROWS_LEARN
    { "huge", "99999999999", "4294967295", true, 0 },
    { "0", "0", "0", true, 0 },
    { "negative", "-5", "-2000", true, 0 },
    { "12abc", "12abc", "12abc", true, 0 },
    { "overflowing", "18446744073709551617", "340282366920938463463374607"
      "431768211457", true, 0 },
    { "a list of 50", list50, list50, true, 0 },
#endif
};

/* What a save given no switchover counts. */
static uint32_t switchover_default(void)
{
    uint32_t ms;

    dss_init(&dss2);
    if (domain_save_precopy_setup(fake_gc(), &dss2))
        fail_msg("%s: precopy setup failed\n%s", row, fake_libxl.log);
    ms = dss2.precopy_params.switchover_ms;
    return ms;
}

static void test_learn(void **state)
{
    unsigned int i;
    uint32_t ms, before;

    for (i = 0; i < 50; i++)
        strcat(list50, i ? " 1500" : "1500");
    for (i = 0; i < sizeof(learn_rows) / sizeof(learn_rows[0]); i++) {
        const struct learn_row *r = &learn_rows[i];

        reset();
        row_begin(r->name);
        if (r->sender)
            fake_xs_set(SENDER, r->sender);
        if (r->receiver)
            fake_xs_set(RECEIVER, r->receiver);
        ms = switchover_default();
        if (ms > SWITCHOVER_BOUND)
            row_fail("the switchover counted", "expected at most %u ms, "
                     "got %u ms", SWITCHOVER_BOUND, ms);
#ifdef TEST_HAVE_SWITCHOVER_LEARN
        if (r->switchover)
            check_int("the switchover counted", r->switchover, ms);
#endif
        check_int("a line of what was ignored", r->warned,
                  !!strstr(fake_libxl.log, "ignored"));
        row_end();
    }

    /* A guest slow to suspend, a failed save: nothing changes. */
    static const struct {
        const char *name;
        uint64_t suspend_ms, device_ms;
        int rc;
        bool learnt;
    } saves[] = {
        { "a save which failed (control)", 60000, 300, ERROR_FAIL, false },
#ifdef ROWS_LEARN
        /* (the median of the last 5 of each share) */
        { "a save, 50 ms to suspend, 300 ms of device state", 50, 300, 0,
          true },
        { "a guest which took 60 s to suspend", 60000, 300, 0, true },
#endif
    };
    for (i = 0; i < sizeof(saves) / sizeof(saves[0]); i++) {
        reset();
        row_begin(saves[i].name);
        fake_xs_set(SENDER, "300 300 300 300 300");
        fake_xs_set(RECEIVER, "200 200 200 200 200");
        before = switchover_default();
        a_save(saves[i].suspend_ms, saves[i].device_ms, saves[i].rc);
        check_int("what the next save counts", before, switchover_default());
        if (!saves[i].learnt)
            check_node(SENDER, "300 300 300 300 300");
        else if (!strstr(fake_libxl.log, "switchover on this host"))
            row_fail("the log", "no line of what was measured");
        row_end();
    }
    table_end("the switchover learnt");
}
#endif

#ifdef TEST_HAVE_SAVE_EVENT
/*
 * libxl keeps nothing from save to save (patch 35): a save given no
 * switchover counts the guest's 100 ms, whatever /libxl holds (the nodes
 * an older libxl learnt, or anything planted there), and one which
 * succeeds reports its switchover to the caller, its guest's suspend
 * apart from dom0's device state.
 */
static const struct event_row {
    const char *name;
    const char *sender, *receiver;      /* nodes planted, NULL for none */
    uint32_t given;                     /* switchover_ms */
    uint64_t suspend_ms, device_ms;     /* the save: what it took */
    int rc;
    uint32_t counted;                   /* what the policy counts */
    bool reported;                      /* an event */
} event_rows[] = {
    { "no nodes, no switchover given", NULL, NULL, 0, 50, 300, 0, 100,
      true },
    { "an older libxl's nodes: not read", "300 300 300", "200 200", 0,
      50, 300, 0, 100, true },
    { "hostile nodes: not read", "99999999999", "-5 12abc", 0, 50, 300,
      0, 100, true },
    { "a switchover given: counted as given", "300", "200", 750, 50, 300,
      0, 750, true },
    { "a guest which took 60 s to suspend: reported apart", NULL, NULL,
      0, 60000, 300, 0, 100, true },
    { "a save which failed: nothing reported", NULL, NULL, 0, 50, 300,
      ERROR_FAIL, 100, false },
};

static void test_switchover_event(void **state)
{
    unsigned int i;

    for (i = 0; i < sizeof(event_rows) / sizeof(event_rows[0]); i++) {
        const struct event_row *r = &event_rows[i];
        libxl_event *ev;

        reset();
        row_begin(r->name);
        if (r->sender)
            fake_xs_set(SENDER, r->sender);
        if (r->receiver)
            fake_xs_set(RECEIVER, r->receiver);
        params.switchover_ms = r->given;
        a_save(r->suspend_ms, r->device_ms, r->rc);
        check_int("the switchover counted", r->counted, a_save_counted);
        ev = fake_libxl.event;
        check_int("a switchover event", r->reported,
                  ev && ev->type == LIBXL_EVENT_TYPE_PRECOPY_SWITCHOVER);
        if (r->reported && ev &&
            ev->type == LIBXL_EVENT_TYPE_PRECOPY_SWITCHOVER) {
            check_int("its suspend_ms", r->suspend_ms,
                      ev->u.precopy_switchover.suspend_ms);
            check_int("its device_ms", r->device_ms,
                      ev->u.precopy_switchover.device_ms);
            /* (1000 ms of memory between them, in a_save) */
            check_int("its paused_ms",
                      r->suspend_ms + 1000 + r->device_ms,
                      ev->u.precopy_switchover.paused_ms);
        }
        /* Nothing written, nothing warned of. */
        check_node(SENDER, r->sender);
        check_node(RECEIVER, r->receiver);
        check_int("a line of what was ignored", 0,
                  !!strstr(fake_libxl.log, "ignored"));
        row_end();
    }
    table_end("the switchover reported");
}
#endif

/*----- the policy callback: domain_save_precopy_policy() -----*/

enum step_kind {
    S_END,
    S_CONSULT,          /* the policy consulted with these stats */
    S_CLOCK_FAILS,      /* ... with clock_gettime failing */
    S_COMMAND,          /* a migrate-ctl command, the watch fired */
};

struct step {
    enum step_kind kind;
    unsigned int iteration;
    long dirty;
    unsigned long remaining;
    libxl_precopy_command cmd;
    int decision;       /* what the policy returns */
};

#define CONSULT(it, d, rem, dec) { S_CONSULT, it, d, rem, 0, dec }
#define COMMAND(c) { S_COMMAND, 0, 0, 0, c, 0 }
#define CONT XGS_POLICY_CONTINUE_PRECOPY
#define STOP XGS_POLICY_STOP_AND_COPY
#define ABORT XGS_POLICY_ABORT

static const struct policy_row {
    const char *name;
    bool throttled;     /* auto-converge has capped the guest (60 -> 30) */
    struct step steps[6];
    const char *phase;
    bool aborted;
} policy_rows[] = {
    { "continue (control)", false, { CONSULT(0, -1, 0, CONT),
      CONSULT(1, 5000, 0, CONT) }, "precopy", false },
    { "clock_gettime fails", false, { CONSULT(0, -1, 0, CONT),
      { S_CLOCK_FAILS, 1, 5000, 0, 0, ABORT } }, "aborted", true },
#ifdef TEST_HAVE_SAVE_THROTTLE
    { "clock_gettime fails, the guest throttled: lifted", true,
      { { S_CLOCK_FAILS, 1, 5000, 0, 0, ABORT } }, "aborted", true },
#endif
    { "an abort command", false, { CONSULT(0, -1, 0, CONT),
      COMMAND(LIBXL_PRECOPY_COMMAND_ABORT), CONSULT(0, -1, 4096, ABORT) },
      "aborted", true },
    { "stop and copy, then the last round: stays", false,
      { CONSULT(1, 10, 0, STOP), CONSULT(1, 5000, 100, STOP),
        CONSULT(2, 5000, 0, STOP) }, "precopy", false },
    { "stop and copy, then an abort in the last round", false,
      { CONSULT(1, 10, 0, STOP), CONSULT(1, 5000, 100, STOP),
        COMMAND(LIBXL_PRECOPY_COMMAND_ABORT), CONSULT(1, 5000, 50, ABORT) },
      "aborted", true },
};

static void test_policy(void **state)
{
    unsigned int i, j;

    for (i = 0; i < sizeof(policy_rows) / sizeof(policy_rows[0]); i++) {
        const struct policy_row *r = &policy_rows[i];
        libxl__srm_save_autogen_callbacks *cb;

        reset();
        row_begin(r->name);
        check_int("init", 0, init(&dss));
#ifdef TEST_HAVE_SAVE_THROTTLE
        if (r->throttled)
            throttle(&dss);
        else
#endif
        check_int("precopy setup", 0,
                  domain_save_precopy_setup(fake_gc(), &dss));
        cb = &dss.sws.shs.callbacks.save.a;
        for (j = 0; r->steps[j].kind != S_END; j++) {
            const struct step *s = &r->steps[j];
            struct precopy_stats st = {
                .iteration = s->iteration,
                .total_written = 262144 + s->iteration * 8192,
                .dirty_count = s->dirty,
                .round_written = 8192,
                .round_remaining = s->remaining,
#ifdef TEST_HAVE_ROUND_DIRTIED
                .round_dirtied = -1,
#endif
            };
            char what[64];

            if (s->kind == S_COMMAND) {
                snprintf(what, sizeof(what), "step %u: the command", j);
                check_int(what, 0, control(s->cmd, 0));
                fake_xs_fire_watch(&egc, P);
                continue;
            }
            fake_libxl.fail_clock = s->kind == S_CLOCK_FAILS;
            snprintf(what, sizeof(what), "step %u: the decision", j);
            check_int(what, s->decision, cb->precopy_policy(st, &dss.sws.shs));
            fake_libxl.fail_clock = 0;
        }
        check_node(P "/phase", r->phase);
        check_int("precopy_aborted", r->aborted, dss.precopy_aborted);
        if (r->throttled) {
            check_int("the domain's own cap back", 60, fake_libxl.cap);
            check_node(RECORD, NULL);
        }
        if (r->aborted && strstr(r->name, "clock"))
            check_log("clock_gettime failed");
        fini(&dss);
        row_end();
    }
    table_end("the policy callback");
}

static int group_setup(void **state)
{
    signal(SIGPIPE, SIG_IGN);
    if (!mkdtemp(run_dir))
        return -1;
    fake_libxl_run_dir(run_dir);
    fake_libxl_reset(LIBXL_SCHEDULER_CREDIT2, 0);
    dss_init(&dss);
    dss_init(&dss2);
    snprintf(mypid, sizeof(mypid), "%ld", (long)getpid());
    return 0;
}

static int group_teardown(void **state)
{
    char path[128];
    static const char *const which[] = { "lock", "owner" };
    unsigned int i;

    for (i = 0; i < 2; i++) {
        snprintf(path, sizeof(path), "%s/precopy-%u.%s", run_dir, DOMID,
                 which[i]);
        unlink(path);
    }
    fake_libxl_reset(LIBXL_SCHEDULER_CREDIT2, 0);
    return rmdir(run_dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock),
        cmocka_unit_test(test_control),
        cmocka_unit_test(test_end),
#if defined(TEST_HAVE_SAVE_LEARN) && !defined(TEST_HAVE_SAVE_EVENT)
        cmocka_unit_test(test_learn),
#endif
#ifdef TEST_HAVE_SAVE_EVENT
        cmocka_unit_test(test_switchover_event),
#endif
        cmocka_unit_test(test_policy),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
