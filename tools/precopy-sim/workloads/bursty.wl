# A bursty, phase-changing guest: 2 s of light work (a small hot set),
# then 1 s of a burst over 40% of memory at 0.8 x the link, repeating.
# Where a round falls in the cycle decides what it sees; the last two
# rounds are a poor guide to the next.
#
# Grounding: Clark et al., "Live Migration of Virtual Machines", NSDI 2005,
# section 4, trace the writable working set of SPEC CINT2000 programs over
# time and find distinct phases; the phase lengths and rates are ours.
name = bursty
guest_mib = 512
link_mbit = 10000
switchover_ms = 10
cycle_s = 3

[phase]
start_s = 0
dist = zipf
wss_mib = 32
write_mib_s = 50

[phase]
start_s = 2
dist = uniform
wss_pct = 40
write_x_link = 0.8
