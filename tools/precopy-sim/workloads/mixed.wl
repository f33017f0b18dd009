# Web server and database on one guest: two writers at once.  The web
# tier rewrites a small hot set (sessions, 2% of memory) at 1.5 x the
# link's page rate; the database writes its buffer pool (50% of memory)
# with Zipf popularity at 0.8 x the link.  Neither alone says how the
# guest converges: the hot set sets the floor of the downtime, the warm
# set how many rounds it takes to get there.
#
# Grounding: the hot set as web.wl (Clark et al., NSDI 2005, SPECweb99),
# the buffer pool as db.wl (YCSB's Zipf 0.99, Cooper et al., SoCC 2010);
# putting both on one guest, and the figures, are ours.
name = mixed
guest_mib = 4096
link_mbit = 10000
switchover_ms = 10

[writer]            # the web tier
[phase]
dist = uniform
wss_pct = 2
write_x_link = 1.5
jitter_pct = 20

[writer]            # the database
[phase]
dist = zipf
zipf_s = 0.99
offset_mib = 256
wss_pct = 50
write_x_link = 0.8
jitter_pct = 20
