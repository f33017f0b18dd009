# A memory streamer: sweeps a large buffer faster than the link can send
# it.  Precopy never converges: every round sends about what the guest
# rewrote meanwhile.  The right answer is to stop early, or to abort.
#
# Grounding: the "diabolical" workload of Clark et al., "Live Migration of
# Virtual Machines", NSDI 2005, section 6 (MMuncher, a program writing
# memory at a rate above what the link carries); STREAM-like kernels write
# at several GB/s per core.  Here: 1.5 x a 10 GbE link over half of memory.
name = streamer
guest_mib = 512
link_mbit = 10000
switchover_ms = 10

[phase]
dist = seq
wss_pct = 50
write_x_link = 1.5
