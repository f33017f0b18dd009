# A noisy near-critical database: Zipf over 60% of memory at 1.3 x the
# link (about the link's rate in new pages), its rate jumping by up to
# +-70% from one 100 ms to the next (bursts of transactions).
#
# Grounding: as db.wl (YCSB's Zipf 0.99); the rate and jitter are ours.
name = noisy-db
guest_mib = 4096
link_mbit = 10000
switchover_ms = 10

[phase]
dist = zipf
zipf_s = 0.99
wss_pct = 60
write_x_link = 1.3
jitter_pct = 70
