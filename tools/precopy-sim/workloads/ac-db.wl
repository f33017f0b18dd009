# Auto-converge: a database whose CPU writes its buffer pool (60% of
# memory) with Zipf popularity at 3 x the link's page rate.  The hot
# pages are rewritten in every round; the tail keeps a round from
# shrinking below several seconds of the link.
#
# Grounding: the buffer pool as db.wl (YCSB's Zipf 0.99, Cooper et al.,
# SoCC 2010); the rate, above the link, is ours.
name = ac-db
guest_mib = 512
link_mbit = 1000
switchover_ms = 10

[phase]
dist = zipf
zipf_s = 0.99
wss_pct = 60
write_x_link = 3
jitter_pct = 20
