/*
 * fake_xen.h - the one stub layer under tools/libs/guest/xg_sr_save.c.
 *
 * The real xg_sr_save.c (compiled from the Xen tree under test) links
 * against this file instead of libxenctrl, libxenforeignmemory and the rest
 * of libxenguest.  It models:
 *
 *  - a guest: p2m_size pfns, each with a version number bumped by every
 *    write; some pfns may be holes (no data in the stream).  A scripted
 *    workload writes pages while a precopy round runs;
 *  - Xen's log-dirty mode: writes accumulate in a pending bitmap, and each
 *    CLEAN overwrites the caller's whole bitmap with it and clears it;
 *  - the destination: the stream writer decodes every PAGE_DATA record and
 *    keeps, per pfn, the version it received, the round and the phase;
 *  - the domain's state: suspended or not, log-dirty on or off;
 *  - failure injection in log-dirty and stream writes.
 *
 * Include after xg_sr_common.h.
 *
 * Built with -DFAKE_XEN_LIBXC (tests/Makefile), it stubs the layout of Xen
 * 4.6-4.9 (tools/libxc) for the legacy series instead.
 */
#ifndef FAKE_XEN_H
#define FAKE_XEN_H

#include <stdbool.h>
#include <stdint.h>

#ifdef FAKE_XEN_NO_POLICY
/*
 * The tree predates the precopy policy (Xen 4.9 and before, without the
 * legacy series): the scenario helpers still compile, with the policy's
 * types declared here, but no save of such a tree ever calls them.
 */
struct precopy_stats {
    unsigned int iteration;
    long dirty_count;
};
#define XGS_POLICY_ABORT            (-1)
#define XGS_POLICY_CONTINUE_PRECOPY 0
#define XGS_POLICY_STOP_AND_COPY    1
#endif

#define FAKE_MAX_ROUNDS 64

/* Phase of the stream a page was sent in. */
#define FAKE_PHASE_NONE      0
#define FAKE_PHASE_PRECOPY   1  /* guest running */
#define FAKE_PHASE_STOPCOPY  2  /* guest suspended */

struct fake_xen;

/*
 * Workload: called when the guest has run through precopy round 'round'
 * (0 is the first, full, round), just before the round's log-dirty bitmap
 * is fetched, or before the guest suspends.  It writes pages with
 * fake_guest_write().
 */
typedef void (*fake_workload_fn)(struct fake_xen *fx, unsigned int round);

struct fake_xen {
    /* --- the guest (set by fake_init()) --- */
    unsigned long p2m_size;
    uint32_t *version;          /* [p2m_size] latest version written */
    unsigned long *hole;        /* bitmap: pfn has no data */
    unsigned long *pending;     /* bitmap: written since the last CLEAN */
    uint32_t domid;

    /* --- script --- */
    fake_workload_fn workload;
    void *opaque;
    unsigned int fail_clean_on;   /* n-th CLEAN fails (EIO); 0 = never */
    unsigned int fail_write_on;   /* n-th PAGE_DATA write fails; 0 = never */
    bool fail_enable;             /* log-dirty cannot be enabled (EBUSY) */
    unsigned int fail_off_on;     /* n-th log-dirty OFF fails (EIO) */
    bool fail_suspend;            /* the suspend callback fails */
    /*
     * Optional, for the simulator (tools/precopy-sim): called after each
     * PAGE_DATA record is decoded, with its pfn list and the number of
     * pages of data it carried.
     */
    void (*on_record)(struct fake_xen *fx, const uint64_t *pfns,
                      unsigned int count, unsigned long pages);
    /* Map guest pages into one reused buffer instead of a fresh calloc
     * per batch (fast, for big guests). */
    bool map_reuse;

    /* --- domain state --- */
    bool logdirty;              /* log-dirty mode enabled */
    bool suspended;
    unsigned int suspend_calls;
    unsigned int logdirty_enables, logdirty_offs, offs_tried;

    /* --- log-dirty observations --- */
    unsigned int cleans;        /* CLEAN operations done (incl. FINAL) */
    unsigned int peeks;
    unsigned int count_peeks;   /* PEEKs without a bitmap: the count only */
    bool final_clean;           /* the FINAL CLEAN was seen */

    /* --- the destination --- */
    uint32_t *dest_version;     /* [p2m_size] version received, 0 = none */
    uint16_t *dest_round;       /* [p2m_size] round it was last sent in */
    uint8_t *dest_phase;        /* [p2m_size] FAKE_PHASE_* */
    unsigned long sent_in_round[FAKE_MAX_ROUNDS]; /* precopy pages/round */
    unsigned long sent_stopcopy;  /* pages sent while suspended */
    unsigned long pages_sent;   /* all page payloads */
    unsigned long pfns_sent;    /* all pfn entries */
    unsigned int records;       /* PAGE_DATA records */
    uint64_t stream_hash;       /* FNV-1a of every record's pfn list */
    unsigned long maps, unmaps;
    void *map_buf;              /* the map_reuse buffer */
    size_t map_buf_pages;
    bool map_buf_busy;

    /* --- libxenctrl error log --- */
    unsigned int errors;
    char last_error[512];
    char error_log[4096];       /* every error, one per line */
};

extern struct fake_xen fake;

/* (Re)initialise the model: a guest of p2m_size pfns, all at version 1. */
void fake_init(unsigned long p2m_size);
void fake_fini(void);

/* The guest writes a pfn: new version, marked in the log-dirty bitmap. */
void fake_guest_write(struct fake_xen *fx, unsigned long pfn);
void fake_set_hole(struct fake_xen *fx, unsigned long pfn);

/* Precopy round the stream is in: the number of non-final CLEANs. */
unsigned int fake_round(const struct fake_xen *fx);

/*
 * Memory-integrity invariant after a completed stream: every pfn with data
 * holds its latest version at the destination.  Returns the number of
 * stale or missing pfns; 'first' (if non-NULL) gets the first one.
 */
unsigned long fake_stale_pfns(const struct fake_xen *fx, unsigned long *first);

/*
 * Save entry points.  fake_domain_save() runs the real xc_domain_save()
 * on a fake HVM domain whose ops (setup, pfn_to_gfn, ...) come from the
 * model, with the given callbacks (suspend is filled in if NULL).
 */
struct save_callbacks;
int fake_domain_save(struct save_callbacks *cbs, bool live, int *err);

#endif /* FAKE_XEN_H */
