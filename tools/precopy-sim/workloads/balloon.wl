# A ballooned guest: 16 GiB of p2m, of which the balloon driver has given
# back 12 GiB (the top three quarters); the 4 GiB left run a database
# (Zipf over 60% of it at 1.2 x the link).  The first round walks 16 GiB
# of pfns but sends 4 GiB; libxl tells the engine the populated size
# (current_memkb), which bounds a first-round stop.
#
# Grounding: memory ballooning as in Waldspurger, "Memory Resource
# Management in VMware ESX Server", OSDI 2002, and Xen's balloon driver;
# the figures are ours.
name = balloon
guest_mib = 16384
link_mbit = 10000
switchover_ms = 10

[unpopulated]
offset_pct = 25
size_pct = 75

[phase]
dist = zipf
zipf_s = 0.99
wss_pct = 60
write_x_link = 1.2
jitter_pct = 20
