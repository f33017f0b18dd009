/*
 * sim.h - the precopy policy simulator (see README.md in this folder).
 *
 * The real send_memory_live()/suspend_and_send_dirty() of the tree's
 * tools/libs/guest/xg_sr_save.c runs through xc_domain_save() on the test
 * stub layer (tests/fakexen), driven by a virtual clock: every PAGE_DATA
 * record advances it by its pages divided by the link bandwidth, and a
 * workload model dirties pages as a function of that time.
 *
 * Include after xg_sr_common.h and fake_xen.h.
 */
#ifndef PRECOPY_SIM_H
#define PRECOPY_SIM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "libxl_precopy_policy.h"

#define SIM_MAX_PHASES 8      /* per writer */
#define SIM_MAX_WRITERS 8
#define SIM_MAX_LINKS 32      /* link schedule: segments after the first */
#define SIM_MAX_UNPOP 64      /* unpopulated ranges (TRACE_MAX_UNPOP) */
#define SIM_MAX_ROUNDS 64     /* FAKE_MAX_ROUNDS */
#define SIM_MAX_POINTS 8192   /* consultations of one run */

enum sim_dist { SIM_UNIFORM, SIM_ZIPF, SIM_SEQ };

/* One phase of a writer: how it writes pages from start_s on. */
struct sim_phase {
    double start_s;
    enum sim_dist dist;
    double wss_mib, wss_pct;     /* working set: one of them */
    double offset_mib;
    double write_mib_s;          /* page writes per second, in MiB/s, */
    double write_x_link;         /* or as a multiple of the link */
    double zipf_s;
    double drift_mib_s;          /* the working set moves this fast */
    double jitter_pct;           /* rate varies by +-this every 100 ms */
    int line;                    /* where it starts in the file */
};

struct sim_trace;                /* trace.h */

enum sim_trace_end { SIM_TRACE_LOOP, SIM_TRACE_IDLE };
enum sim_trace_order { SIM_TRACE_SHUFFLE, SIM_TRACE_PFN };

/*
 * A writer: phases of its own (repeating every cycle_s if set), or the
 * replay of a recorded trace.  Writers run at the same time.
 */
struct sim_writer {
    double cycle_s;              /* 0: its phases do not repeat */
    unsigned int nr_phases;
    struct sim_phase phase[SIM_MAX_PHASES];
    char trace_path[256];        /* trace replay: the file, or "" */
    const struct sim_trace *trace;   /* loaded, owned by the workload */
    double trace_start_s;        /* replay from this time of the trace */
    enum sim_trace_end trace_end;
    enum sim_trace_order trace_order;
    /* The share of its writes that the guest's CPU does (1: all), the
     * rest a device's DMA or I/O: a throttle slows only that share. */
    double cpu_bound;
    int line;                    /* its [writer] line, 0 if implicit */
};

/* From start_s on (in each link_cycle_s if set), the link carries mbit,
 * or x_link x the workload's link_mbit. */
struct sim_link {
    double start_s;
    double mbit, x_link;         /* one of them */
    int line;
};

/* pfns counted in the guest's p2m but never populated (ballooned out):
 * never written, never sent. */
struct sim_unpop {
    double offset_mib, offset_pct;   /* one of them */
    double size_mib, size_pct;       /* one of them */
    int line;
};

struct sim_workload {
    char path[256];
    char name[64];
    double guest_mib;            /* the p2m, populated or not */
    double link_mbit;
    double link_drop_at_s, link_drop_mbit;  /* optional: link drops */
    double link_cycle_s;         /* the link schedule repeats */
    double switchover_ms;
    double cycle_s;              /* default cycle_s of the writers */
    double cpu_bound;            /* default cpu_bound of the writers */
    unsigned int nr_writers;
    struct sim_writer writer[SIM_MAX_WRITERS];
    unsigned int nr_links;
    struct sim_link link[SIM_MAX_LINKS];
    unsigned int nr_unpop;
    struct sim_unpop unpop[SIM_MAX_UNPOP];
    /* Traces loaded for the writers (sim_workload_free() frees them). */
    struct sim_trace *traces[SIM_MAX_WRITERS];
};

/*
 * Parse a workload file.  Returns 0, or -1 with a message naming the file
 * and line in err.
 */
int sim_workload_load(struct sim_workload *wl, const char *path,
                      char *err, size_t errsz);
/*
 * Same, from a string (for tests); 'path' names the file in messages, and
 * trace files are found relative to it.
 */
int sim_workload_parse(struct sim_workload *wl, const char *path,
                       const char *text, char *err, size_t errsz);
/*
 * A workload replaying one trace: the guest's size and unpopulated ranges
 * from the trace, the link given.  Returns 0, or -1 with a message.
 */
int sim_workload_from_trace(struct sim_workload *wl, const char *trace_path,
                            double link_mbit, double switchover_ms,
                            char *err, size_t errsz);
/* Free what a workload loaded (its traces); it may be loaded again. */
void sim_workload_free(struct sim_workload *wl);

enum sim_policy {
    SIM_P_XEN,          /* libxenguest's default, 5 rounds / 50 pages */
    SIM_P_QEMU,         /* QEMU: pending <= bandwidth x downtime limit */
    SIM_P_ENGINE,       /* libxl__precopy_decide() with a downtime target */
    SIM_P_ENGINE_ABORT, /* the same, with abort_if_busy */
    SIM_P_STOP_AT,      /* stop at consultation stop_at (oracle replay) */
    SIM_P_ORACLE,       /* every stop point, see sim_oracle() */
    SIM_P_ENGINE_AC,    /* the engine with auto_converge */
    SIM_P_QEMU_AC,      /* qemu, with QEMU's auto-converge rule */
    /* engine and engine-abort with the harness's limits as their own,
     * cap_rounds as max_rounds and cap_factor as max_factor_pct (which
     * then replace the harness's) */
    SIM_P_ENGINE_BOUND,
    SIM_P_ENGINE_ABORT_BOUND,
    SIM_P_NR
};

const char *sim_policy_name(enum sim_policy p);
int sim_policy_parse(const char *s);   /* -1 if unknown */

struct sim_config {
    const struct sim_workload *wl;
    double guest_mib;            /* 0: the workload's */
    double link_mbit;            /* 0: the workload's */
    double switchover_ms;        /* <0: the workload's */
    uint64_t seed;
    double sla_ms;
    enum sim_policy policy;
    unsigned int batches;        /* precopy_policy_batches; see sim_run() */
    /* Engine parameters beyond the downtime target (0: not set). */
    libxl__precopy_params engine;
    unsigned int stop_at;        /* SIM_P_STOP_AT */
    /* Harness limit: stop (and flag 'capped') once precopy has sent
     * cap_factor x guest pages or done cap_rounds rounds. */
    double cap_factor;
    unsigned int cap_rounds;
    /* A throttle on the guest's CPU, %, from the start (the policies
     * with auto-converge change it); max_throttle_pct (0: 99, and at
     * most 99) bounds it and theirs. */
    unsigned int throttle_pct;
    unsigned int max_throttle_pct;
};

void sim_config_default(struct sim_config *c);
/*
 * Check a configuration against its workload: the guest size (the
 * workload's or c->guest_mib) must hold its unpopulated ranges, with some
 * memory left, and its traces' pfns.  Returns 0, or -1 with a message.
 */
int sim_config_check(const struct sim_config *c, char *err, size_t errsz);

struct sim_point {               /* a consultation of the policy */
    unsigned int iteration;
    long dirty_count;
    unsigned long round_remaining, total_written;
    double t_s;
    double pos;                  /* rounds done, fractional mid-round */
};

struct sim_result {
    int rc, err;
    bool aborted, capped;
    unsigned int rounds;         /* precopy rounds which sent pages */
    unsigned long guest_pages;   /* the p2m */
    unsigned long populated;     /* pages of it populated */
    unsigned long pages_sent, precopy_pages, stopcopy_pages;
    double downtime_ms, total_s, stop_pos;
    unsigned long stale;         /* pfns not up to date at the end */
    unsigned long hole_writes;   /* unpopulated pfns written: a bug */
    unsigned long dirtied;       /* page writes by the guest */
    unsigned int consults, stop_consult;
    unsigned long round_size[SIM_MAX_ROUNDS];
    /* Pages each precopy round sent (nr_round_sent of them; the
     * stop-and-copy phase is stopcopy_pages). */
    unsigned long round_sent[SIM_MAX_ROUNDS];
    unsigned int nr_round_sent;
    const char *reason;          /* engine: why it stopped (or aborted) */
    /* The guest's CPU time taken by the throttle during precopy: the
     * throttle (a share of each vcpu) x time, in s; its highest, %. */
    double lost_cpu_s;
    unsigned int max_throttle_pct;
    unsigned int throttle_steps;  /* how often it changed */
};

/* One run of the real loop.  Returns 0, or -1 on a harness error. */
int sim_run(const struct sim_config *c, struct sim_result *r);

/* What the oracle found at one stop point. */
struct sim_stop {
    unsigned int consult;
    double pos;
    unsigned long pages_sent;
    double downtime_ms;
    double t_s;                  /* when */
};

struct sim_oracle {
    struct sim_result trace;     /* the run to the cap */
    unsigned int nr;
    struct sim_stop stop[SIM_MAX_POINTS];
};

/*
 * Run to the cap, and at every consultation work out what stopping there
 * would cost: the stop-and-copy phase sends the round's pfns not sent yet
 * and every pfn dirtied since the last CLEAN, at the bandwidth of the
 * time.  Returns 0 or -1.
 */
int sim_oracle(const struct sim_config *c, struct sim_oracle *o);

/*
 * Replay the run with a stop at stop point i (SIM_P_STOP_AT, the real
 * loop to the end) and check the oracle got its cost right.  Returns 0 if
 * so, -1 if not; the replay's result in r.
 */
int sim_oracle_verify(const struct sim_config *c, const struct sim_oracle *o,
                      unsigned int i, struct sim_result *r);

/* The oracle's choices for an SLA. */
struct sim_choice {
    bool feasible;
    /* Feasible in some round at half of its stop points or more, not only
     * at a few (a dip the oracle saw coming). */
    bool robust;
    int fewest;                  /* index into stop[]: fewest pages meeting
                                  * the SLA, -1 if infeasible */
    int min_dt;                  /* minimum downtime */
};
void sim_oracle_choose(const struct sim_oracle *o, double sla_ms,
                       struct sim_choice *ch);

/*
 * The workload model alone, without the loop (for tests): the guest of
 * c->wl runs from 0 to t_s in steps of step_s, log-dirty on.  Leaves the
 * number of page writes in *writes, the number of distinct pfns written in
 * *distinct, and a hash of every pfn's version in *hash.
 */
void sim_model_drive(const struct sim_config *c, double t_s, double step_s,
                     unsigned long *writes, unsigned long *distinct,
                     uint64_t *hash);

/*
 * Record the model of c as xen-dirty-record would: log-dirty read and
 * cleared every interval_s, for t_s, into a dirty trace on f.  Returns the
 * number of records, or -1 with errno.
 */
long sim_model_record(const struct sim_config *c, double t_s,
                      double interval_s, FILE *f);

/* JSON result line (no newline). */
void sim_json(FILE *f, const struct sim_config *c, const struct sim_result *r,
              const struct sim_oracle *o, const struct sim_choice *ch);

#endif
