# A shared link with a periodic backup: every 8 s the backup takes 70% of
# the link for 3 s, then 40% for 1 s while it finishes; the migration has
# the rest.  The guest is a database (Zipf over 60% of memory at 0.9 x
# the full link).  A bandwidth measured in one part of the cycle is wrong
# in the next; rounds that fall in the backup take three times as long.
#
# Grounding: Akoush et al., "Predicting the Performance of Virtual Machine
# Migration", MASCOTS 2010: migration time and downtime follow the
# available bandwidth; the schedule is illustrative.
name = backup
guest_mib = 4096
link_mbit = 10000
switchover_ms = 10
link_cycle_s = 8

[link]
start_s = 2
x_link = 0.3
[link]
start_s = 5
x_link = 0.6
[link]
start_s = 6
x_link = 1

[phase]
dist = zipf
zipf_s = 0.99
wss_pct = 60
write_x_link = 0.9
jitter_pct = 20
