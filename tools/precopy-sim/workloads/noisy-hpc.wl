# A noisy near-critical guest: an HPC job writing 40% of memory uniformly
# at 0.95 x the link, with a rate that jumps by up to +-60% from one
# 100 ms to the next (its phases: compute, exchange, checkpoint).  Rounds
# shrink by 5% on average, but any one round may grow or halve: the last
# rounds are a poor guide to the next, and the best stop points are dips.
#
# Grounding: Ibrahim et al., SC 2011 (as hpc.wl) for dirty rates near the
# migration bandwidth; the jitter is ours.
name = noisy-hpc
guest_mib = 4096
link_mbit = 10000
switchover_ms = 10

[phase]
dist = uniform
wss_pct = 40
write_x_link = 0.95
jitter_pct = 60
