/*
 * record.h - xen-dirty-record: records which pages a running guest dirties,
 * interval by interval, into a dirty trace (trace.h) for precopy-sim's
 * replay.  See README.md, "Recording a trace".
 *
 * What it needs of Xen goes through struct rec_ops: record_xen.c has the
 * libxenctrl calls, the tests a fake guest and clock.  record_main() is
 * the whole program but for them.
 */
#ifndef PRECOPY_RECORD_H
#define PRECOPY_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct rec_ops {
    void *h;
    /* Open the interface to Xen; 0 or -1 with errno. */
    int (*open)(struct rec_ops *o);
    void (*close)(struct rec_ops *o);
    /*
     * The domain: its p2m size (pfns) and whether it is HVM/PVH (its pfns
     * are gfns, which pfn_nodata() can look up).  0, or -1 with errno
     * (ESRCH: no such domain).
     */
    int (*domain)(struct rec_ops *o, uint32_t domid, uint64_t *p2m_size,
                  bool *hvm);
    /* For n pfns from first: whether each has no data to send (Xen's
     * XTAB, XALLOC, BROKEN types: not populated).  0 or -1. */
    int (*pfn_nodata)(struct rec_ops *o, uint32_t domid, uint64_t first,
                      unsigned int n, bool *nodata);
    /* Log-dirty mode on or off; 0 or -1 with errno. */
    int (*logdirty)(struct rec_ops *o, uint32_t domid, bool on);
    /*
     * The log since the last call (or since log-dirty went on), cleared
     * as it is read: Xen's CLEAN, which copies and resets the bitmap in
     * one operation (a PEEK first would lose what the guest dirtied
     * between the two).  bitmap: p2m_size bits.  0 or -1.
     */
    int (*peek_clean)(struct rec_ops *o, uint32_t domid,
                      unsigned long *bitmap, uint64_t p2m_size);
    /* Monotonic clock, ns; and sleep until it reads t (may return early
     * on a signal). */
    uint64_t (*now_ns)(struct rec_ops *o);
    void (*sleep_until)(struct rec_ops *o, uint64_t t_ns);
};

/* Set (by a signal handler, or a test) to stop at the next interval. */
extern volatile int record_stop;

/*
 * The program: parses argv (see usage in record.c), records, returns the
 * exit status (0 done, 1 failed, 2 bad usage); messages on err.
 */
int record_main(int argc, char **argv, struct rec_ops *ops, FILE *err);

#endif
