# Auto-converge on a guest whose dirtying is not CPU-bound: a storage or
# network appliance whose devices write their buffers (30% of memory) by
# DMA at 1.5 x the link's page rate; only a fifth of the writes are the
# guest's CPU (cpu_bound = 0.2).  A throttle of 99% leaves 1.2 x the
# link: throttling costs the guest and hardly helps.
#
# Grounding: Xen's log-dirty mode sees a device model's or a backend's
# writes into guest memory as dirtying (they map and write the guest's
# pages) while the guest's CPU cap does not slow them; the split and the
# rate are ours.
name = ac-dma
guest_mib = 512
link_mbit = 1000
switchover_ms = 10
cpu_bound = 0.2

[phase]
dist = uniform
wss_pct = 30
write_x_link = 1.5
jitter_pct = 10
