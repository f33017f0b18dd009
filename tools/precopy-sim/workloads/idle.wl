# An idle guest: a few pages a second (timers, logging, page cache
# write-back), on gigabit Ethernet.  Illustrative: Clark et al. (NSDI 2005)
# note that idle guests converge in a few rounds; the rate is ours.
name = idle
guest_mib = 512
link_mbit = 1000
switchover_ms = 10

[phase]
dist = uniform
wss_mib = 8
write_mib_s = 0.05
jitter_pct = 50
