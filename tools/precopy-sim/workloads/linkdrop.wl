# The database of db.wl, but the link drops from 10 to 2.5 Gbit/s a
# quarter of a second into the migration (another migration, or a backup, starts on the
# same link).  Estimates of the bandwidth made before the drop are wrong.
#
# Grounding: Akoush et al., "Predicting the Performance of Virtual Machine
# Migration", MASCOTS 2010, show migration time and downtime on Xen follow
# the available link bandwidth; the drop itself is illustrative.
name = linkdrop
guest_mib = 512
link_mbit = 10000
link_drop_at_s = 0.25
link_drop_mbit = 2500
switchover_ms = 10

[phase]
dist = zipf
zipf_s = 0.99
wss_pct = 60
write_mib_s = 1500
jitter_pct = 20
