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
