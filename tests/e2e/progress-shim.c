/*
 * progress-shim: LD_PRELOADed into the sending xl by the e2e harness.
 *
 * xl's migrate_domain() hides libxenguest's progress lines ("Frames
 * iteration N: sent/total") with
 * xtl_stdiostream_adjust_flags(XTL_STDIOSTREAM_HIDE_PROGRESS, 0); the test
 * reads rounds and pages from them.  This makes that one call a no-op and
 * changes nothing else.  Drop it once xl shows the sender's progress itself.
 */
struct xentoollog_logger_stdiostream;

void xtl_stdiostream_adjust_flags(struct xentoollog_logger_stdiostream *lg,
                                  unsigned set_flags, unsigned clear_flags);

void xtl_stdiostream_adjust_flags(struct xentoollog_logger_stdiostream *lg,
                                  unsigned set_flags, unsigned clear_flags)
{
    (void)lg;
    (void)set_flags;
    (void)clear_flags;
}

/*
 * The pipeline's negative control (scenario pvh_corrupt_control): with
 * E2E_CORRUPT_PAGE=N in the environment (given to the receiving xl only;
 * its libxl-save-helper inherits it), every copy of memtest's page N that
 * the process reads gets one bit of its body flipped, after the read, as a
 * bad link or a bad receiver would.  A page is memtest's page N when it
 * starts with memtest's magic, its index is N and its checksum (memtest's
 * own) holds: so the page damaged is one that memtest's verify checks.
 *
 * Every copy, not the Nth page seen (which once passed a CI run's
 * verify): a copy sent again in a later round (the guest kernel moving
 * the page) would repair a damaged one, and a frame the guest freed can
 * still hold an old memtest page.  A page
 * split across two read()s is found too: read_exact() fills one buffer
 * with consecutive reads, so a read into the end of the previous one
 * (same fd) is scanned with the previous read's last 4095 bytes, which
 * the caller has not used yet.  Without the variable read() is libc's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define E2E_PAGE 4096
#define E2E_MAGIC 0x45324550414745ULL

static uint64_t e2e_checksum(const unsigned char *pg)
{
    uint64_t c = 0xcbf29ce484222325ULL, w;

    for (unsigned k = 0; k < E2E_PAGE / 8; k++) {
        if (k == 3)
            continue;
        memcpy(&w, pg + 8 * k, 8);
        c = ((c << 5) | (c >> 59)) ^ w;
        c *= 0x100000001b3ULL;
    }
    return c;
}

ssize_t read(int fd, void *buf, size_t count)
{
    static ssize_t (*real_read)(int, void *, size_t);
    static long want = -1, flipped;
    /* the bytes read last into one buffer, back to at most a page */
    static unsigned char *run_start, *run_end;
    static int run_fd = -1;
    unsigned char *b = buf, *start, *end;
    ssize_t n;

    if (!real_read)
        real_read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    n = real_read(fd, buf, count);
    if (want < 0) {
        const char *e = getenv("E2E_CORRUPT_PAGE");
        want = e ? atol(e) : 0;
    }
    if (want <= 0 || n <= 0)
        return n;
    end = b + n;
    start = b;
    if (fd == run_fd && b == run_end && run_start)
        start = b - run_start >= E2E_PAGE ? b - (E2E_PAGE - 1) : run_start;
    run_fd = fd;
    run_start = start;
    run_end = end;
    if (end - start < E2E_PAGE)
        return n;
    for (unsigned char *p = start; p + E2E_PAGE <= end; p++) {
        uint64_t w[4];

        if (*p != 0x45)
            continue;
        memcpy(w, p, sizeof(w));
        if (w[0] != E2E_MAGIC || w[1] != (uint64_t)want ||
            w[3] != e2e_checksum(p))
            continue;
        p[E2E_PAGE / 2] ^= 0x02;
        flipped++;
        {
            char msg[96];
            int len = snprintf(msg, sizeof(msg),
                               "e2e-corrupt-shim: flipped a bit of memtest page %ld (copy %ld)\n",
                               want, flipped);
            ssize_t wr = write(2, msg, len);
            (void)wr;
        }
        p += E2E_PAGE - 1;
    }
    return n;
}
