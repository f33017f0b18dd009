# Noisy and near-critical, two writers: a hot set (4% of memory) written
# at the link's rate and a warm set (30%) at half of it, each jumping by
# up to +-80% every 100 ms, independently.
#
# Grounding: illustrative (see mixed.wl and noisy-hpc.wl).
name = noisy-mixed
guest_mib = 4096
link_mbit = 10000
switchover_ms = 10

[writer]
[phase]
dist = uniform
wss_pct = 4
write_x_link = 1
jitter_pct = 80

[writer]
[phase]
dist = uniform
offset_mib = 512
wss_pct = 30
write_x_link = 0.5
jitter_pct = 80
