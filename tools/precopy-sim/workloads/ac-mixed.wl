# Auto-converge on two writers at once: a compute job's CPU rewrites 30%
# of memory at 1.5 x the link's page rate, and a NIC's receive ring (3%
# of memory) is written by DMA at 0.5 x the link (cpu_bound = 0.1).  The
# throttle stops the first; the ring sets the floor of the downtime
# (about 130 ms at 1 GbE), whatever the throttle.
#
# Grounding: as ac-hpc.wl and ac-dma.wl; the figures are ours.
name = ac-mixed
guest_mib = 512
link_mbit = 1000
switchover_ms = 10

[writer]            # the compute job
[phase]
dist = uniform
wss_pct = 30
write_x_link = 1.5
jitter_pct = 10

[writer]            # the receive ring
cpu_bound = 0.1
[phase]
dist = seq
offset_mib = 256
wss_pct = 3
write_x_link = 0.5
jitter_pct = 10
