# A noisy near-critical application server: a 1 GiB working set (a
# managed heap's young generation, say) written uniformly at 0.95 x the
# link, the rate jumping by up to +-60% from one 100 ms to the next (GC
# cycles, request bursts); the rest of memory is cold.  The working set
# does not grow with the guest: a 64 GiB guest converges as a 4 GiB one
# does, after a longer first round.  The guest of the size sweeps.
#
# Grounding: illustrative; the near-critical rate as hpc.wl, the jitter
# as noisy-hpc.wl.
name = noisy-app
guest_mib = 4096
link_mbit = 10000
switchover_ms = 10

[phase]
dist = uniform
offset_mib = 256
wss_mib = 1024
write_x_link = 0.95
jitter_pct = 60
