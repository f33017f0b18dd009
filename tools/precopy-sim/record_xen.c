/*
 * record_xen.c - xen-dirty-record's calls into Xen (libxenctrl), and its
 * main().  Built against the tree's tools/include and linked with the
 * tree's libxenctrl; see record.h for what each call does.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include <xenctrl.h>
#include "xc_private.h"         /* xc_get_pfn_type_batch() */

#include "record.h"

static xc_interface *xch;
/* The dirty bitmap CLEAN fills, a hypercall buffer (as the save's). */
static xc_hypercall_buffer_t hbuf;
static unsigned long hbuf_pages;

static int x_open(struct rec_ops *o)
{
    xch = xc_interface_open(NULL, NULL, 0);
    return xch ? 0 : -1;
}

static void x_close(struct rec_ops *o)
{
    DECLARE_HYPERCALL_BUFFER_SHADOW(unsigned long, bitmap, &hbuf);

    if ( bitmap )
        xc_hypercall_buffer_free_pages(xch, bitmap, hbuf_pages);
    if ( xch )
        xc_interface_close(xch);
    xch = NULL;
}

static int x_domain(struct rec_ops *o, uint32_t domid, uint64_t *p2m_size,
                    bool *hvm)
{
    xen_pfn_t nr;
#ifdef FAKE_XEN_GETINFO_SINGLE
    /* Xen 4.18 and later (the flag says what the tree's libxenctrl has) */
    xc_domaininfo_t info;

    if ( xc_domain_getinfo_single(xch, domid, &info) < 0 )
    {
        errno = ESRCH;
        return -1;
    }
    *hvm = info.flags & XEN_DOMINF_hvm_guest;
#else
    xc_dominfo_t info;

    if ( xc_domain_getinfo(xch, domid, 1, &info) != 1 ||
         info.domid != domid )
    {
        errno = ESRCH;
        return -1;
    }
    *hvm = info.hvm;
#endif
    if ( xc_domain_nr_gpfns(xch, domid, &nr) < 0 )
        return -1;
    *p2m_size = nr;
    return 0;
}

static int x_pfn_nodata(struct rec_ops *o, uint32_t domid, uint64_t first,
                        unsigned int n, bool *nodata)
{
    xen_pfn_t types[1024];
    unsigned int i;

    if ( n > 1024 )
    {
        errno = EINVAL;
        return -1;
    }
    /* A translated guest's pfns are its gfns, which the call takes. */
    for ( i = 0; i < n; i++ )
        types[i] = first + i;
    if ( xc_get_pfn_type_batch(xch, domid, n, types) )
        return -1;
    for ( i = 0; i < n; i++ )
    {
        switch ( types[i] & XEN_DOMCTL_PFINFO_LTAB_MASK )
        {
        case XEN_DOMCTL_PFINFO_XTAB:
        case XEN_DOMCTL_PFINFO_XALLOC:
        case XEN_DOMCTL_PFINFO_BROKEN:
            nodata[i] = true;
            break;
        default:
            nodata[i] = false;
        }
    }
    return 0;
}

static int x_logdirty(struct rec_ops *o, uint32_t domid, bool on)
{
    /* Not the save's juggling (off, then on again, when on fails): that
     * would take log-dirty away from whoever has it. */
    return xc_shadow_control(xch, domid,
                             on ? XEN_DOMCTL_SHADOW_OP_ENABLE_LOGDIRTY
                                : XEN_DOMCTL_SHADOW_OP_OFF, NULL, 0) < 0
           ? -1 : 0;
}

static int x_peek_clean(struct rec_ops *o, uint32_t domid,
                        unsigned long *out, uint64_t p2m_size)
{
    DECLARE_HYPERCALL_BUFFER_SHADOW(unsigned long, bitmap, &hbuf);
    size_t bytes = (p2m_size + 8 * sizeof(long) - 1) / (8 * sizeof(long)) *
                   sizeof(long);

    if ( !bitmap )
    {
        hbuf_pages = (bytes + XC_PAGE_SIZE - 1) / XC_PAGE_SIZE;
        bitmap = xc_hypercall_buffer_alloc_pages(xch, bitmap, hbuf_pages);
        if ( !bitmap )
            return -1;
    }
    if ( xc_logdirty_control(xch, domid, XEN_DOMCTL_SHADOW_OP_CLEAN, &hbuf,
                             p2m_size, 0, NULL) != (long long)p2m_size )
        return -1;
    memcpy(out, bitmap, bytes);
    return 0;
}

static uint64_t x_now_ns(struct rec_ops *o)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void x_sleep_until(struct rec_ops *o, uint64_t t_ns)
{
    struct timespec ts = { t_ns / 1000000000ULL, t_ns % 1000000000ULL };

    /* EINTR (a signal: record_stop) returns early, as it should. */
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static void on_signal(int sig)
{
    record_stop = 1;
}

int main(int argc, char **argv)
{
    struct rec_ops ops = {
        .open = x_open, .close = x_close, .domain = x_domain,
        .pfn_nodata = x_pfn_nodata, .logdirty = x_logdirty,
        .peek_clean = x_peek_clean, .now_ns = x_now_ns,
        .sleep_until = x_sleep_until,
    };
    struct sigaction sa;

    /* No SA_RESTART: the sleep ends at the signal. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    return record_main(argc, argv, &ops, stderr);
}
