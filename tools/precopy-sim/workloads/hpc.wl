# A near-critical HPC job: writes a large array at 0.9 x the link
# bandwidth, uniformly.  Each precopy round sends about 0.9 x the previous
# one: it converges, but slowly, so the number of rounds decides the
# downtime.
#
# Grounding: Ibrahim et al., "Optimized pre-copy live migration for memory
# intensive applications", SC 2011, measure HPC (NAS Parallel Benchmarks)
# guests whose dirtying rate is close to or above the migration bandwidth.
# The 0.9 ratio and the 40% array are ours.
name = hpc
guest_mib = 512
link_mbit = 10000
switchover_ms = 10

[phase]
dist = uniform
wss_pct = 40
write_x_link = 0.9
jitter_pct = 5
