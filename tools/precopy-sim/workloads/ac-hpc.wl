# Auto-converge: an HPC job whose CPU rewrites a large array (40% of
# memory) at 2 x the link's page rate, uniformly.  Every round re-dirties
# nearly all of the array, so without a throttle the downtime never gets
# below the array's size at the link's rate (about 1.7 s at 1 GbE); with
# the CPU capped, the writes fall in proportion and precopy converges.
#
# Grounding: as hpc.wl (Ibrahim et al., SC 2011: HPC guests dirtying at
# or above the migration bandwidth).  That a CPU-bound writer's rate
# falls with its CPU share is the premise of QEMU's auto-converge
# (docs/devel/migration: "throttling the guest's vCPUs"); the figures are
# ours.
name = ac-hpc
guest_mib = 512
link_mbit = 1000
switchover_ms = 10

[phase]
dist = uniform
wss_pct = 40
write_x_link = 2
jitter_pct = 10
