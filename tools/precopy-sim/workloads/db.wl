# A database: a large working set (its buffer pool, 60% of memory) written
# with Zipf-distributed popularity, on 10 GbE.
#
# Grounding: the Zipf constant 0.99 is YCSB's default request distribution
# (Cooper et al., "Benchmarking Cloud Serving Systems with YCSB", SoCC
# 2010).  1500 MiB/s of page writes (1.26 x a 10 GbE link; most hit the
# hottest pages) makes precopy converge, slowly, to a small floor:
# write-heavy guests dirtying memory faster than the link are what Hines
# and Gopalan, "Post-copy based live virtual machine migration", VEE 2009,
# motivate post-copy with.  Exact figures are ours.
name = db
guest_mib = 512
link_mbit = 10000
switchover_ms = 10

[phase]
dist = zipf
zipf_s = 0.99
wss_pct = 60
write_mib_s = 1500
jitter_pct = 20
