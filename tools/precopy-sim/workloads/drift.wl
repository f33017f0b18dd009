# A drifting hot set: the guest writes a 64 MiB window of memory hard, and
# the window moves through memory at 64 MiB/s (an append-mostly log or
# a generational heap).  Pages leave the hot set as fast as they join it,
# so each round sees a new set.
#
# Grounding: illustrative; the moving-window model is the usual one for
# log-structured stores.  Rates are ours.
name = drift
guest_mib = 512
link_mbit = 10000
switchover_ms = 10

[phase]
dist = uniform
wss_mib = 64
drift_mib_s = 64
write_mib_s = 2000
jitter_pct = 20
