# A game server: a very small, very hot writable working set (the world
# state, rewritten every tick) on gigabit Ethernet.
#
# Grounding: Clark et al., "Live Migration of Virtual Machines", NSDI 2005,
# section 6: a Quake 3 server migrated over gigabit Ethernet with 60 ms of
# downtime, which players did not notice.  The hot set (6 MiB, written at
# 3 x the link's page rate) is chosen so that the smallest reachable
# downtime on 1 GbE is about 57 ms; the sizes are ours, not the paper's.
name = game
guest_mib = 512
link_mbit = 1000
switchover_ms = 10

[phase]
dist = uniform
wss_mib = 6
write_x_link = 3
jitter_pct = 10
