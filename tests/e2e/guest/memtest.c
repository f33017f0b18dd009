/*
 * memtest: the e2e guest's memory writer and verifier.
 *
 * Runs inside the migrated domU (static binary, busybox initramfs).  It keeps
 * rewriting a region of NPAGES pages at a controllable rate and can prove at
 * any time that no page was lost, corrupted or went back in time.
 *
 * Design
 * - Writes are numbered by one global counter G (the number of writes done).
 *   Write number g goes to page perm(g) = (g * K) mod N, K coprime to N, and
 *   stamps that page with seq = g.  The first N writes fill the region.
 *   So the whole expected state of the region follows from G alone: page i
 *   must hold the largest g < G with perm(g) == i.  Nothing else (no table
 *   that could itself be stale) is needed to check it.
 * - Every page: header {magic, index, seq, checksum} and a body that is a
 *   pattern of (index, seq); the checksum covers header and body.  A check
 *   finds: "corrupt" (bad magic/index/checksum/pattern), "stale" (seq older
 *   than the last write the guest made to that page), "future" (seq newer
 *   than G: G itself went back in time).  A consistent snapshot of the guest
 *   (what a correct migration delivers) passes; anything else does not.
 * - Continuous check: before each rewrite the page's old content is checked.
 * - Full check on demand: the test writes "v TAG" to the guest's console
 *   (the pty xenconsoled gives it); memtest checks every page and prints one
 *   "E2E verify tag=TAG result=OK|FAIL ..." line.  "x TAG stale|corrupt"
 *   damages one page, verifies (which must FAIL: the checker's own test)
 *   and repairs it.  "r TAG RATE" changes the
 *   write rate (pages/s; 0 idle, -1 as fast as possible).
 * - xenstore as the guest sees it: "s TAG OP PATH [VALUE]" sends one
 *   request (OP: read, write, mkdir, rm, dir, perms) through the guest
 *   kernel's /dev/xen/xenbus and prints "E2E xs tag=TAG op=OP path=PATH
 *   result=OK|ERR reply=..." (ERR: xenstored's error, e.g. EACCES): the
 *   test's untrusted guest trying to reach the toolstack's nodes.
 * - Downtime: the largest gap between two turns of the main loop (at rate
 *   -1, between two page writes), on CLOCK_BOOTTIME (which counts the time
 *   the guest was suspended), reported by each verify and reset by it.  A
 *   turn is ~1 ms, a write a few us, so the gap is the time the guest
 *   stood still: migration downtime as the guest sees it.  (At rate -1 per
 *   write: a busy guest whose CPU is capped to 1% takes seconds for a
 *   turn.)  Such a guest is also parked by the scheduler, for seconds when
 *   it overdrew its budget: maxgap_ms is then the longest park, and
 *   lastgap_ms, the latest gap of 200 ms or more, the migration's pause
 *   (after which the guest has its CPU back).
 * Every line it prints starts with "E2E "; an error line is "E2E ERROR ..."
 * ("E2E INJECTED-ERROR ..." while the self-test damages a page on purpose).
 *
 * Usage: memtest [-n PAGES] [-r RATE]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define WORDS (PAGE / 8)
#define HDR 4                     /* magic, index, seq, checksum */
#define MAGIC 0x45324550414745ULL /* "E2EPAGE" */
#define BATCH 64                  /* writes between two looks at the console */

static uint64_t *region;
static uint64_t npages, K;
static uint64_t G;                /* writes done: seq of the next write */
static long rate = -1;            /* pages per second; -1 unlimited */
static uint64_t errors_total, errors_reported;
static int injecting;             /* errors now are the self-test's own */
static double maxgap;             /* seconds, since the last verify */
static double lastgap;            /* the latest gap of LASTGAP_MIN or more */
#define LASTGAP_MIN 0.2
static double last_progress;      /* when the main loop last made progress */
/* The rate's budget: writes since budget_base are allowed rate per second
 * since budget_start.  A new rate starts a new budget (a budget left from
 * an unlimited phase, which does not count, would hold writes back). */
static double budget_start;
static uint64_t budget_base;

static void out(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (n > (int)sizeof(buf) - 2)
        n = sizeof(buf) - 2;
    buf[n++] = '\n';
    /* the console is the test's only channel: write it whole, now */
    for (int off = 0; off < n;) {
        ssize_t w = write(1, buf + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        off += w;
    }
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_BOOTTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t mix(uint64_t x)   /* splitmix64 finaliser */
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t checksum(const uint64_t *p)
{
    uint64_t c = 0xcbf29ce484222325ULL;

    for (unsigned k = 0; k < WORDS; k++) {
        if (k == 3)
            continue;             /* the checksum word itself */
        c = ((c << 5) | (c >> 59)) ^ p[k];
        c *= 0x100000001b3ULL;
    }
    return c;
}

static void write_page(uint64_t i, uint64_t seq)
{
    uint64_t *p = region + i * WORDS;
    uint64_t s = mix(i << 40 ^ seq);

    p[0] = MAGIC;
    p[1] = i;
    p[2] = seq;
    for (unsigned k = HDR; k < WORDS; k++)
        p[k] = s ^ (k * 0x9e3779b97f4a7c15ULL);
    p[3] = checksum(p);
}

/* seq that page i must hold after G writes (G >= npages) */
static uint64_t expected(uint64_t i, const uint32_t *inv)
{
    uint64_t j = inv[i], last = G - 1;

    return last - ((last + npages - j) % npages);
}

/* Check page i against seq want.  Returns 0 when it is right. */
static int check_page(uint64_t i, uint64_t want, const char *when)
{
    const uint64_t *p = region + i * WORDS;
    const char *kind = NULL;
    uint64_t s;

    if (p[0] != MAGIC || p[1] != i)
        kind = "corrupt-header";
    else if (p[3] != checksum(p))
        kind = "corrupt-checksum";
    else {
        s = mix(i << 40 ^ p[2]);
        for (unsigned k = HDR; k < WORDS; k++)
            if (p[k] != (s ^ (k * 0x9e3779b97f4a7c15ULL))) {
                kind = "corrupt-body";
                break;
            }
        if (!kind && p[2] < want)
            kind = "stale";
        else if (!kind && p[2] > want)
            kind = "future";
    }
    if (!kind)
        return 0;
    errors_total++;
    if (errors_reported++ < 20)
        out("E2E %s %s page=%" PRIu64 " kind=%s expected_seq=%" PRIu64
            " got_seq=%" PRIu64 " magic=%#" PRIx64 " index=%" PRIu64
            " G=%" PRIu64, injecting ? "INJECTED-ERROR" : "ERROR", when, i,
            kind, want, p[2], p[0], p[1], G);
    return 1;
}

static uint64_t gcd(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The main loop made progress at t (since the previous progress, at
 * last). */
static void gap(double t)
{
    if (t - last_progress > maxgap)
        maxgap = t - last_progress;
    if (t - last_progress >= LASTGAP_MIN)
        lastgap = t - last_progress;
    last_progress = t;
}

static void verify_all(const char *tag, const uint32_t *inv)
{
    uint64_t bad = 0;
    double t0 = now();

    for (uint64_t i = 0; i < npages; i++)
        bad += check_page(i, expected(i, inv), "verify");
    out("E2E verify tag=%s result=%s pages=%" PRIu64 " bad=%" PRIu64
        " seq=%" PRIu64 " errors_total=%" PRIu64 " maxgap_ms=%.0f"
        " lastgap_ms=%.0f rate=%ld took_ms=%.0f",
        tag, bad || errors_total ? "FAIL" : "OK",
        npages, bad, G, errors_total, maxgap * 1e3, lastgap * 1e3, rate,
        (now() - t0) * 1e3);
    maxgap = lastgap = 0;
}

/*
 * Negative control: damage the page written last ("stale": it goes back to
 * its previous content; "corrupt": one bit of its body flips), run a full
 * verify (which must FAIL), then repair the page and forget the errors.
 */
static void inject(const char *tag, const char *kind, const uint32_t *inv)
{
    uint64_t i;

    /* the page written last must have an older version to go back to */
    for (; G < 2 * npages; G++)
        write_page((G * K) % npages, G);
    i = ((G - 1) * K) % npages;
    injecting = 1;

    if (strcmp(kind, "stale") == 0)
        write_page(i, G - 1 - npages);
    else if (strcmp(kind, "corrupt") == 0)
        region[i * WORDS + WORDS / 2] ^= 1ULL << 17;
    else {
        out("E2E unknown inject kind '%s'", kind);
        return;
    }
    out("E2E inject tag=%s kind=%s page=%" PRIu64, tag, kind, i);
    verify_all(tag, inv);
    write_page(i, G - 1);
    errors_total = 0;
    errors_reported = 0;
    injecting = 0;
    out("E2E repaired tag=%s page=%" PRIu64, tag, i);
}

/* xenstore wire protocol (xen/io/xs_wire.h) */
struct xsd_sockmsg { uint32_t type, req_id, tx_id, len; };
enum { XS_DIRECTORY = 1, XS_READ = 2, XS_GET_PERMS = 3, XS_WRITE = 11,
       XS_MKDIR = 12, XS_RM = 13, XS_ERROR = 16 };

/* One xenstore request from the guest; prints its reply. */
static void xs_request(const char *tag, const char *op, const char *path,
                       const char *value)
{
    static const struct { const char *name; uint32_t type; } ops[] = {
        { "read", XS_READ }, { "write", XS_WRITE }, { "mkdir", XS_MKDIR },
        { "rm", XS_RM }, { "dir", XS_DIRECTORY }, { "perms", XS_GET_PERMS },
    };
    char buf[1024], reply[256];
    struct xsd_sockmsg m = { 0, 0x45, 0, 0 };
    size_t plen = strlen(path) + 1, vlen = value ? strlen(value) : 0;
    ssize_t n;
    int fd;

    for (unsigned k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
        if (strcmp(op, ops[k].name) == 0)
            m.type = ops[k].type;
    if (!m.type || sizeof(m) + plen + vlen > sizeof(buf)) {
        out("E2E xs tag=%s op=%s path=%s result=BADCMD", tag, op, path);
        return;
    }
    fd = open("/dev/xen/xenbus", O_RDWR);
    if (fd < 0)
        fd = open("/proc/xen/xenbus", O_RDWR);
    if (fd < 0) {
        out("E2E xs tag=%s op=%s path=%s result=NODEV errno=%d", tag, op,
            path, errno);
        return;
    }
    m.len = plen + vlen;
    memcpy(buf, &m, sizeof(m));
    memcpy(buf + sizeof(m), path, plen);
    if (vlen)
        memcpy(buf + sizeof(m) + plen, value, vlen);
    if (write(fd, buf, sizeof(m) + m.len) != (ssize_t)(sizeof(m) + m.len)) {
        out("E2E xs tag=%s op=%s path=%s result=IOERR errno=%d", tag, op,
            path, errno);
        close(fd);
        return;
    }
    /* the device gives a whole reply (header and payload) per read */
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < (ssize_t)sizeof(m)) {
        out("E2E xs tag=%s op=%s path=%s result=IOERR n=%zd errno=%d", tag,
            op, path, n, errno);
        return;
    }
    memcpy(&m, buf, sizeof(m));
    n -= sizeof(m);
    if (n > (ssize_t)sizeof(reply) - 1)
        n = sizeof(reply) - 1;
    for (ssize_t k = 0; k < n; k++) {
        char c = buf[sizeof(m) + k];
        reply[k] = c == 0 ? ',' : (c < 32 || c > 126) ? '.' : c;
    }
    reply[n > 0 ? n : 0] = 0;
    out("E2E xs tag=%s op=%s path=%s result=%s reply=%s", tag, op, path,
        m.type == XS_ERROR ? "ERR" : "OK", reply);
}

/* One command line from the console. */
static void command(char *line, const uint32_t *inv)
{
    char tag[64] = "-", kind[16], path[200], value[64];
    long r;
    int k;

    if (sscanf(line, " v %63s", tag) >= 1 || strcmp(line, "v") == 0)
        verify_all(tag, inv);
    else if (sscanf(line, " r %63s %ld", tag, &r) == 2) {
        rate = r;
        budget_start = now();
        budget_base = G;
        out("E2E rate tag=%s rate=%ld seq=%" PRIu64, tag, rate, G);
    } else if ((k = sscanf(line, " s %63s %15s %199s %63s", tag, kind, path,
                           value)) >= 3) {
        xs_request(tag, kind, path, k == 4 ? value : NULL);
    } else if (sscanf(line, " x %63s %15s", tag, kind) == 2) {
        inject(tag, kind, inv);
    } else if (line[strspn(line, " \t\r")])
        out("E2E unknown command '%s'", line);
}

int main(int argc, char **argv)
{
    static char inbuf[256];
    size_t inlen = 0;
    uint32_t *inv;
    int opt;
    double tick;
    struct termios tio;

    npages = 8192;
    while ((opt = getopt(argc, argv, "n:r:")) != -1) {
        switch (opt) {
        case 'n': npages = strtoull(optarg, NULL, 0); break;
        case 'r': rate = strtol(optarg, NULL, 0); break;
        default:
            fprintf(stderr, "usage: memtest [-n pages] [-r pages_per_s|-1]\n");
            return 2;
        }
    }
    if (npages < 2 || npages > (1u << 24)) {
        out("E2E ERROR bad page count %" PRIu64, npages);
        return 2;
    }
    /* raw console input: no echo of the test's commands into the log */
    if (tcgetattr(0, &tio) == 0) {
        tio.c_lflag &= ~(ECHO | ICANON);
        tio.c_cc[VMIN] = 1;
        tio.c_cc[VTIME] = 0;
        tcsetattr(0, TCSANOW, &tio);
    }
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);

    region = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    inv = malloc(npages * sizeof(*inv));
    if (region == MAP_FAILED || !inv) {
        out("E2E ERROR cannot allocate %" PRIu64 " pages", npages);
        return 1;
    }
    mlock(region, npages * PAGE);
    for (K = 40503; gcd(K, npages) != 1; K++)
        ;
    for (uint64_t g = 0; g < npages; g++)
        inv[(g * K) % npages] = g;
    for (G = 0; G < npages; G++)
        write_page((G * K) % npages, G);
    out("E2E ready pages=%" PRIu64 " rate=%ld", npages, rate);

    budget_start = last_progress = tick = now();
    budget_base = G;
    for (;;) {
        double t = now();
        int timeout = 0;

        gap(t);

        /* writes allowed by now */
        uint64_t todo = BATCH;
        if (rate >= 0) {
            double allowed = (t - budget_start) * rate;
            uint64_t done = G - budget_base;
            todo = allowed > done ? (uint64_t)(allowed - done) : 0;
            if (todo > BATCH)
                todo = BATCH;
            if (!todo)
                timeout = rate ? 5 : 100;
            /* after a long pause do not catch up in a burst */
            if (allowed - done > 2.0 * rate + BATCH) {
                budget_start = t;
                budget_base = G;
            }
        }
        for (uint64_t n = 0; n < todo; n++, G++) {
            uint64_t i = (G * K) % npages;
            double tw;

            if (G >= npages)
                check_page(i, G - npages, "write");
            write_page(i, G);
            /* (busy only: a rate-limited turn is short by itself, and
             * the clock is a syscall under TCG) */
            if (rate < 0) {
                tw = now();
                gap(tw);
            }
        }

        struct pollfd pfd = { .fd = 0, .events = POLLIN };
        if (poll(&pfd, 1, timeout) > 0 && (pfd.revents & POLLIN)) {
            ssize_t n = read(0, inbuf + inlen, sizeof(inbuf) - 1 - inlen);
            if (n > 0)
                inlen += n;
            for (;;) {
                char *nl = memchr(inbuf, '\n', inlen);
                if (!nl)
                    nl = memchr(inbuf, '\r', inlen);
                if (!nl)
                    break;
                *nl = 0;
                command(inbuf, inv);
                inlen -= nl + 1 - inbuf;
                memmove(inbuf, nl + 1, inlen);
            }
            if (inlen == sizeof(inbuf) - 1)
                inlen = 0;        /* garbage without newline: drop it */
        }
        if (t - tick >= 30) {
            out("E2E alive seq=%" PRIu64 " errors_total=%" PRIu64, G,
                errors_total);
            tick = t;
        }
    }
}
