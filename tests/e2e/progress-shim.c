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
 * its libxl-save-helper inherits it), the Nth page of memtest's region that
 * the process reads whole in one read() gets one bit of its body flipped,
 * after the read, as a bad link or a bad receiver would.  A page is
 * memtest's when it starts with memtest's magic, its index and seq are in
 * range and its checksum (memtest's own) holds: so the page damaged is one
 * that memtest's verify checks.  Without the variable read() is libc's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
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
    static long want = -1, seen;
    ssize_t n;

    if (!real_read)
        real_read = (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read");
    n = real_read(fd, buf, count);
    if (want < 0) {
        const char *e = getenv("E2E_CORRUPT_PAGE");
        want = e ? atol(e) : 0;
    }
    if (want <= 0 || seen >= want || n < E2E_PAGE)
        return n;
    unsigned char *b = buf;
    for (ssize_t off = 0; off + E2E_PAGE <= n; off++) {
        uint64_t w[4];

        if (b[off] != 0x45)
            continue;
        memcpy(w, b + off, sizeof(w));
        if (w[0] != E2E_MAGIC || w[1] >= (1u << 24) ||
            w[3] != e2e_checksum(b + off))
            continue;
        if (++seen == want) {
            b[off + E2E_PAGE / 2] ^= 0x02;
            {
                static const char msg[] = "e2e-corrupt-shim: flipped a bit of a memtest page\n";
                ssize_t wr = write(2, msg, sizeof(msg) - 1);
                (void)wr;
            }
            break;
        }
        off += E2E_PAGE - 1;
    }
    return n;
}
