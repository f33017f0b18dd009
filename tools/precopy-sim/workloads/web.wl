# A web server: a small, hot writable working set on gigabit Ethernet.
#
# Grounding: Clark et al., "Live Migration of Virtual Machines", NSDI 2005,
# section 6: a SPECweb99 server in an 800 MB guest (512 MiB here, to keep the
# sweep fast: the downtime depends on the hot set, not the guest size) migrated over gigabit
# Ethernet with 210 ms of downtime; a Quake 3 server with 60 ms (see
# game.wl).  The working set below (Zipf over 48 MiB, page writes at 6 x
# the link's page rate, so the hottest pages are rewritten faster than any
# round can send them) is chosen so that the smallest reachable downtime on
# 1 GbE is about 200 ms; the exact figures are ours, not the paper's.
name = web
guest_mib = 512
link_mbit = 1000
switchover_ms = 10

[phase]
dist = zipf
zipf_s = 0.99
wss_mib = 48
write_x_link = 6
jitter_pct = 20
