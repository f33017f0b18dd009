/*
 * fake_xen.c - see fake_xen.h.  Every external symbol that
 * tools/libs/guest/xg_sr_save.c references is defined here, compiled with
 * the same flags and headers as libxenguest, so that each stub's signature
 * is checked against the tree's prototypes.
 */
#include "xg_sr_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "fake_xen.h"

struct fake_xen fake;

/* First bytes of every page the fake maps: who it is and which version. */
struct fake_page_tag {
    uint64_t magic;
    uint64_t pfn;
    uint32_t version;
};
#define FAKE_PAGE_MAGIC 0x78656e2d70726563ULL

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n, sz);

    if ( !p )
    {
        fprintf(stderr, "fake_xen: out of memory\n");
        abort();
    }
    return p;
}

void fake_init(unsigned long p2m_size)
{
    unsigned long pfn;

    fake_fini();
    fake.p2m_size = p2m_size;
    fake.domid = 7;
    fake.stream_hash = 0xcbf29ce484222325ULL;
    fake.version = xcalloc(p2m_size, sizeof(*fake.version));
    fake.hole = bitmap_alloc(p2m_size);
    fake.pending = bitmap_alloc(p2m_size);
    fake.dest_version = xcalloc(p2m_size, sizeof(*fake.dest_version));
    fake.dest_round = xcalloc(p2m_size, sizeof(*fake.dest_round));
    fake.dest_phase = xcalloc(p2m_size, sizeof(*fake.dest_phase));
    if ( !fake.hole || !fake.pending )
        abort();
    for ( pfn = 0; pfn < p2m_size; pfn++ )
        fake.version[pfn] = 1;
}

void fake_fini(void)
{
    free(fake.version);
    free(fake.hole);
    free(fake.pending);
    free(fake.dest_version);
    free(fake.dest_round);
    free(fake.dest_phase);
    if ( fake.map_buf )
        munmap(fake.map_buf, fake.map_buf_pages * XC_PAGE_SIZE);
    memset(&fake, 0, sizeof(fake));
}

void fake_guest_write(struct fake_xen *fx, unsigned long pfn)
{
    if ( fx->suspended )
    {
        fprintf(stderr, "fake_xen: write to pfn %#lx while suspended\n", pfn);
        abort();
    }
    pfn %= fx->p2m_size;
    fx->version[pfn]++;
    if ( fx->logdirty )
        set_bit(pfn, fx->pending);
}

void fake_set_hole(struct fake_xen *fx, unsigned long pfn)
{
    set_bit(pfn, fx->hole);
}

unsigned int fake_round(const struct fake_xen *fx)
{
    return fx->cleans - fx->final_clean;
}

unsigned long fake_stale_pfns(const struct fake_xen *fx, unsigned long *first)
{
    unsigned long pfn, n = 0;

    for ( pfn = 0; pfn < fx->p2m_size; pfn++ )
    {
        if ( fx->dest_version[pfn] == fx->version[pfn] ||
             test_bit(pfn, fx->hole) )
            continue;
        if ( n++ == 0 && first )
            *first = pfn;
    }
    return n;
}

/* ---------- logging and progress (libxenctrl xc_private.c) ---------- */
void xc_report_error(xc_interface *xch, int code, const char *fmt, ...)
{
    va_list ap;
    size_t len;

    va_start(ap, fmt);
    vsnprintf(fake.last_error, sizeof(fake.last_error), fmt, ap);
    va_end(ap);
    fake.errors++;
    len = strlen(fake.error_log);
    snprintf(fake.error_log + len, sizeof(fake.error_log) - len, "%s\n",
             fake.last_error);
    if ( getenv("FAKE_XEN_VERBOSE") )
        fprintf(stderr, "[xc error] %s\n", fake.last_error);
}

void xc_report(xc_interface *xch, xentoollog_logger *lg,
               xentoollog_level level, int code, const char *fmt, ...)
{
    va_list ap;

    if ( !getenv("FAKE_XEN_VERBOSE") )
        return;
    va_start(ap, fmt);
    fprintf(stderr, "[xc] ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

const char *xc_strerror(xc_interface *xch, int errcode)
{
    return strerror(errcode);
}

const char *xc_set_progress_prefix(xc_interface *xch, const char *doing)
{
    const char *old = xch->currently_progress_reporting;

    xch->currently_progress_reporting = doing;
    return old;
}

void xc_report_progress_single(xc_interface *xch, const char *doing) { }
void xc_report_progress_step(xc_interface *xch,
                             unsigned long done, unsigned long total) { }

/* ---------- hypercall buffers (libxenctrl xc_hcall_buf.c) ---------- */
void *xc__hypercall_buffer_alloc_pages(xc_interface *xch,
                                       xc_hypercall_buffer_t *b, int nr_pages)
{
    void *p = calloc(nr_pages, XC_PAGE_SIZE);

    b->hbuf = p;
    return p;
}

void xc__hypercall_buffer_free_pages(xc_interface *xch,
                                     xc_hypercall_buffer_t *b, int nr_pages)
{
    free(b->hbuf);
    b->hbuf = NULL;
}

/* ---------- domctls (libxenctrl) ---------- */
#ifdef FAKE_XEN_LIBXC
/* The mode changes half of the old xc_shadow_control(), defined below. */
#define xc_shadow_control fake_shadow_mode
#endif
int xc_shadow_control(xc_interface *xch, uint32_t domid, unsigned int sop,
                      unsigned int *mb, unsigned int mode)
{
    switch ( sop )
    {
    case XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY:
        if ( fake.fail_enable )
        {
            errno = EBUSY;
            return -1;
        }
        fake.logdirty = true;
        fake.logdirty_enables++;
        bitmap_clear(fake.pending, fake.p2m_size);
        return 0;

    case XEN_DOMCTL_SHADOW_OP_OFF:
        if ( fake.fail_off_on && ++fake.offs_tried == fake.fail_off_on )
        {
            errno = EIO;
            return -1;
        }
        fake.logdirty = false;
        fake.logdirty_offs++;
        return 0;

    default:
        errno = EINVAL;
        return -1;
    }
}

/* The number of bits set in a bitmap of 'bits' bits. */
static unsigned long bitmap_count(const unsigned long *bitmap,
                                  unsigned long bits)
{
    unsigned long i, n = 0;

    for ( i = 0; i < bits / BITS_PER_LONG; i++ )
        n += __builtin_popcountl(bitmap[i]);
    for ( i = bits & ~(BITS_PER_LONG - 1UL); i < bits; i++ )
        n += !!test_bit(i, bitmap);
    return n;
}

long long xc_logdirty_control(xc_interface *xch, uint32_t domid,
                              unsigned int sop,
                              xc_hypercall_buffer_t *dirty_bitmap,
                              unsigned long pages, unsigned int mode,
                              xc_shadow_op_stats_t *stats)
{
    unsigned long *bitmap;
    unsigned long n;
    bool final = mode & XEN_DOMCTL_SHADOW_LOGDIRTY_FINAL;

    /* As Xen: a PEEK without a bitmap reads the count of pages dirtied
     * since the last CLEAN, and walks nothing. */
    if ( !dirty_bitmap && !pages && fake.logdirty &&
         sop == XEN_DOMCTL_SHADOW_OP_PEEK )
    {
        fake.count_peeks++;
        if ( stats )
        {
            stats->fault_count = 0;
            stats->dirty_count = bitmap_count(fake.pending, fake.p2m_size);
        }
        return 0;
    }

    bitmap = dirty_bitmap ? dirty_bitmap->hbuf : NULL;
    if ( !bitmap || !fake.logdirty || pages != fake.p2m_size ||
         (sop != XEN_DOMCTL_SHADOW_OP_CLEAN &&
          sop != XEN_DOMCTL_SHADOW_OP_PEEK) )
    {
        errno = EINVAL;
        return -1;
    }

    if ( sop == XEN_DOMCTL_SHADOW_OP_PEEK )
    {
        fake.peeks++;
        memcpy(bitmap, fake.pending, bitmap_size(pages));
        return pages;
    }

    /* The guest ran through the round just sent. */
    if ( !final && fake.workload )
        fake.workload(&fake, fake_round(&fake));

    fake.cleans++;
    fake.final_clean |= final;
    if ( fake.fail_clean_on && fake.cleans == fake.fail_clean_on )
    {
        errno = EIO;
        return -1;
    }

    /* As Xen: the whole bitmap is overwritten with the log, then reset. */
    memcpy(bitmap, fake.pending, bitmap_size(pages));
    bitmap_clear(fake.pending, pages);
    n = bitmap_count(bitmap, pages);

    if ( stats )
    {
        stats->fault_count = 0;
        stats->dirty_count = n;
    }
    return pages;
}

#ifdef FAKE_XEN_LIBXC
#undef xc_shadow_control
/*
 * Before Xen 4.16, one xc_shadow_control() did both the mode changes and
 * CLEAN/PEEK (then split into xc_logdirty_control()).
 */
int xc_shadow_control(xc_interface *xch, uint32_t domid, unsigned int sop,
                      xc_hypercall_buffer_t *dirty_bitmap,
                      unsigned long pages, unsigned long *mb,
                      uint32_t mode, xc_shadow_op_stats_t *stats)
{
    if ( sop == XEN_DOMCTL_SHADOW_OP_CLEAN ||
         sop == XEN_DOMCTL_SHADOW_OP_PEEK )
        return xc_logdirty_control(xch, domid, sop, dirty_bitmap, pages,
                                   mode, stats);
    return fake_shadow_mode(xch, domid, sop, NULL, mode);
}

/* Inline in the old write_batch(): the pfn types with no page data. */
static bool page_type_has_stream_data(uint32_t type)
{
    switch ( type )
    {
    case XEN_DOMCTL_PFINFO_BROKEN:
    case XEN_DOMCTL_PFINFO_XALLOC:
    case XEN_DOMCTL_PFINFO_XTAB:
        return false;
    default:
        return true;
    }
}
#endif

int xc_get_pfn_type_batch(xc_interface *xch, uint32_t dom,
                          unsigned int num, xen_pfn_t *arr)
{
    unsigned int i;

    for ( i = 0; i < num; i++ )
        arr[i] = (arr[i] < fake.p2m_size && !test_bit(arr[i], fake.hole))
            ? XEN_DOMCTL_PFINFO_NOTAB : XEN_DOMCTL_PFINFO_XTAB;
    return 0;
}

int xc_version(xc_interface *xch, int cmd, void *arg)
{
    return (4 << 16) | 17;
}

#ifdef FAKE_XEN_GETINFO_SINGLE
/* Xen 4.18 and later: xc_domain_getinfo_single() and xc_domaininfo_t. */
int xc_domain_getinfo_single(xc_interface *xch, uint32_t domid,
                             xc_domaininfo_t *info)
{
    if ( domid != fake.domid )
    {
        errno = ESRCH;
        return -1;
    }
    memset(info, 0, sizeof(*info));
    info->domain = fake.domid;
    info->flags = XEN_DOMINF_hvm_guest | XEN_DOMINF_hap;
    if ( fake.suspended )
        info->flags |= XEN_DOMINF_shutdown | XEN_DOMINF_paused |
            (SHUTDOWN_suspend << XEN_DOMINF_shutdownshift);
    else
        info->flags |= XEN_DOMINF_running;
    return 0;
}
#else
int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid,
                      unsigned int max_doms, xc_dominfo_t *info)
{
    if ( first_domid != fake.domid || max_doms < 1 )
        return 0;
    memset(info, 0, sizeof(*info));
    info->domid = fake.domid;
    info->hvm = 1;
    info->hap = 1;
    info->shutdown = fake.suspended;
    info->shutdown_reason = fake.suspended ? SHUTDOWN_suspend : 0;
    info->paused = fake.suspended;
    info->running = !fake.suspended;
    return 1;
}
#endif

/* ---------- foreign memory (libxenforeignmemory) ---------- */
void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom,
                           int prot, size_t pages, const xen_pfn_t arr[],
                           int err[])
{
    unsigned char *p;
    size_t i;

    if ( fake.map_reuse && !fake.map_buf_busy )
    {
        if ( fake.map_buf_pages < pages )
        {
            /* At least a batch; huge pages if the kernel has them (the
             * tags are 4 KiB apart: one TLB entry each otherwise). */
            size_t n = pages < 1024 ? 1024 : pages;

            if ( fake.map_buf )
                munmap(fake.map_buf, fake.map_buf_pages * XC_PAGE_SIZE);
            fake.map_buf = mmap(NULL, n * XC_PAGE_SIZE, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if ( fake.map_buf == MAP_FAILED )
            {
                fprintf(stderr, "fake_xen: out of memory\n");
                abort();
            }
            madvise(fake.map_buf, n * XC_PAGE_SIZE, MADV_HUGEPAGE);
            fake.map_buf_pages = n;
        }
        fake.map_buf_busy = true;
        p = fake.map_buf;
    }
    else
        p = xcalloc(pages, XC_PAGE_SIZE);

    for ( i = 0; i < pages; i++ )
    {
        struct fake_page_tag tag = {
            .magic = FAKE_PAGE_MAGIC,
            .pfn = arr[i],
            .version = arr[i] < fake.p2m_size ? fake.version[arr[i]] : 0,
        };

        memcpy(p + i * XC_PAGE_SIZE, &tag, sizeof(tag));
        err[i] = 0;
    }
    fake.maps++;
    return p;
}

int xenforeignmemory_unmap(xenforeignmemory_handle *fmem,
                           void *addr, size_t pages)
{
    if ( addr == fake.map_buf )
        fake.map_buf_busy = false;
    else
        free(addr);
    fake.unmaps++;
    return 0;
}

/* ---------- the stream (xg_sr_common.c, xc_private.c) ---------- */
int write_exact(int fd, const void *data, size_t size)
{
    return 0;
}

/*
 * The bytes of a writev_exact(), read in order across its iovs, without
 * copying the pages: write_batch() lays a record out in several iovs,
 * which differ between Xen versions (4 for the headers and one per page
 * up to 4.22, 2 and a run of contiguous pages per iov since).
 */
struct iov_cursor {
    const struct iovec *iov;
    int iovcnt, i;
    size_t off;
};

/* Copies the next len bytes, from as many iovs as they span. */
static bool iov_read(struct iov_cursor *c, void *buf, size_t len)
{
    while ( len )
    {
        size_t n;

        if ( c->i == c->iovcnt )
            return false;
        n = c->iov[c->i].iov_len - c->off;
        if ( n > len )
            n = len;
        memcpy(buf, (const char *)c->iov[c->i].iov_base + c->off, n);
        buf = (char *)buf + n;
        len -= n;
        c->off += n;
        if ( c->off == c->iov[c->i].iov_len )
        {
            c->i++;
            c->off = 0;
        }
    }
    return true;
}

/* The next len bytes, which must not straddle two iovs; NULL at the end. */
static const void *iov_take(struct iov_cursor *c, size_t len)
{
    const void *p;

    while ( c->i < c->iovcnt && c->off == c->iov[c->i].iov_len )
    {
        c->i++;
        c->off = 0;
    }
    if ( c->i == c->iovcnt )
        return NULL;
    if ( c->iov[c->i].iov_len - c->off < len )
    {
        fprintf(stderr, "fake_xen: a record field straddles two iovs\n");
        abort();
    }
    p = (const char *)c->iov[c->i].iov_base + c->off;
    c->off += len;
    return p;
}

/*
 * write_batch() emits a PAGE_DATA record with one writev_exact(): the
 * record header (type, length), the page data header (count), the pfn
 * list (type << 32 | pfn), then the pages with data.  Decode it as the
 * restore side would.
 */
#ifdef FAKE_XEN_WRITEV_MUTABLE
int writev_exact(int fd, struct iovec *iov, int iovcnt)
#else
int writev_exact(int fd, const struct iovec *iov, int iovcnt)
#endif
{
    struct iov_cursor c = { .iov = iov, .iovcnt = iovcnt };
    struct xc_sr_rhdr rhdr;
    struct xc_sr_rec_page_data_header hdr;
    uint64_t pfns[MAX_BATCH_SIZE];
    unsigned int i, count;
    unsigned long pages = 0;
    unsigned int round = fake_round(&fake);

    if ( !iov_read(&c, &rhdr, sizeof(rhdr)) ||
         rhdr.type != REC_TYPE_PAGE_DATA )
    {
        fprintf(stderr, "fake_xen: unexpected writev_exact()\n");
        abort();
    }

    if ( fake.fail_write_on && fake.records + 1 == fake.fail_write_on )
    {
        fake.records++;
        errno = EIO;
        return -1;
    }

    if ( !iov_read(&c, &hdr, sizeof(hdr)) || hdr.count > MAX_BATCH_SIZE ||
         !iov_read(&c, pfns, hdr.count * sizeof(*pfns)) )
        abort();
    count = hdr.count;

    for ( i = 0; i < count; i++ )
    {
        uint64_t pfn = pfns[i] & ((1ULL << 32) - 1);
        uint32_t type = pfns[i] >> 32;
        const struct fake_page_tag *tag;

        if ( !page_type_has_stream_data(type) )
            continue;
        if ( pfn >= fake.p2m_size )
            abort();
        tag = iov_take(&c, XC_PAGE_SIZE);
        if ( !tag )
        {
            fprintf(stderr, "fake_xen: record with fewer pages than pfns "
                    "with data\n");
            abort();
        }
        pages++;
        if ( tag->magic != FAKE_PAGE_MAGIC || tag->pfn != pfn )
        {
            fprintf(stderr, "fake_xen: page data for pfn %#"PRIx64
                    " carries pfn %#"PRIx64"\n", pfn, tag->pfn);
            abort();
        }
        fake.dest_version[pfn] = tag->version;
        fake.dest_round[pfn] = round;
        fake.dest_phase[pfn] = fake.suspended ? FAKE_PHASE_STOPCOPY
                                              : FAKE_PHASE_PRECOPY;
        if ( fake.suspended )
            fake.sent_stopcopy++;
        else if ( round < FAKE_MAX_ROUNDS )
            fake.sent_in_round[round]++;
        fake.pages_sent++;
    }
    if ( iov_take(&c, 1) )
    {
        fprintf(stderr, "fake_xen: record longer than its pages\n");
        abort();
    }
    if ( rhdr.length != sizeof(hdr) + count * sizeof(*pfns) +
         pages * XC_PAGE_SIZE )
    {
        fprintf(stderr, "fake_xen: record length %u for %u pfns and %lu "
                "pages\n", rhdr.length, count, pages);
        abort();
    }

    for ( i = 0; i < count; i++ )
        fake.stream_hash = (fake.stream_hash ^ pfns[i]) * 0x100000001b3ULL;
    fake.stream_hash = (fake.stream_hash ^ ~0ULL) * 0x100000001b3ULL;
    fake.pfns_sent += count;
    fake.records++;
    if ( fake.on_record )
        fake.on_record(&fake, pfns, count, pages);
    return 0;
}

int write_split_record(struct xc_sr_context *ctx, struct xc_sr_record *rec,
                       void *buf, size_t sz)
{
    return 0;
}

int read_record(struct xc_sr_context *ctx, int fd, struct xc_sr_record *rec)
{
    errno = ENOSYS;
    return -1;
}

const char *dhdr_type_to_str(uint32_t type)
{
    return "fake";
}

/* ---------- the guest type's save ops (xg_sr_save_x86_hvm.c) ---------- */
static xen_pfn_t fake_pfn_to_gfn(const struct xc_sr_context *ctx,
                                 xen_pfn_t pfn)
{
    return pfn;
}

static int fake_normalise_page(struct xc_sr_context *ctx, xen_pfn_t type,
                               void **page)
{
    return 0;
}

static int fake_setup(struct xc_sr_context *ctx)
{
    ctx->save.p2m_size = fake.p2m_size;
    return 0;
}

static int fake_ok(struct xc_sr_context *ctx)
{
    return 0;
}

struct xc_sr_save_ops save_ops_x86_hvm = {
    .pfn_to_gfn = fake_pfn_to_gfn,
    .normalise_page = fake_normalise_page,
    .setup = fake_setup,
#ifndef FAKE_XEN_LIBXC
    .static_data = fake_ok,
#endif
    .start_of_stream = fake_ok,
    .start_of_checkpoint = fake_ok,
    .end_of_checkpoint = fake_ok,
    .check_vm_state = fake_ok,
    .cleanup = fake_ok,
};
struct xc_sr_save_ops save_ops_x86_pv;

/* ---------- the toolstack's side ---------- */
static int fake_suspend(void *data)
{
    /* The guest ran through the last precopy round before it stopped. */
    if ( fake.workload && fake.logdirty )
        fake.workload(&fake, fake_round(&fake));
    if ( fake.fail_suspend )
        return 0;               /* it did not stop, as libxl reports it */
    fake.suspended = true;
    fake.suspend_calls++;
    return 1;
}

#ifdef FAKE_XEN_LIBXC
typedef int fake_domid_t;       /* uint32_t since Xen 4.10 */
#else
typedef uint32_t fake_domid_t;
#endif

static int fake_switch_qemu_logdirty(fake_domid_t domid, unsigned int enable,
                                     void *data)
{
    return 0;
}

int fake_domain_save(struct save_callbacks *cbs, bool live, int *err)
{
    struct xc_interface_core xch = { 0 };
    int rc;

    if ( !cbs->suspend )
        cbs->suspend = fake_suspend;
    if ( !cbs->switch_qemu_logdirty )
        cbs->switch_qemu_logdirty = fake_switch_qemu_logdirty;

    errno = 0;
#ifndef FAKE_XEN_LIBXC
    rc = xc_domain_save(&xch, -1, fake.domid, live ? XCFLAGS_LIVE : 0, cbs,
                        XC_STREAM_PLAIN, -1);
#else
    rc = xc_domain_save(&xch, -1, fake.domid,
#ifdef FAKE_XEN_SAVE_MAX_ITERS          /* before Xen 4.10's clean-up */
                        0, 0,
#endif
                        live ? XCFLAGS_LIVE : 0, cbs, 1 /* hvm */,
                        XC_MIG_STREAM_NONE, -1);
#endif
    if ( err )
        *err = errno;
    return rc;
}
