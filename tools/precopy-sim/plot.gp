# plot.gp: the bench's two plots for one workload, from precopy-sim
# --plot-data output.  gnuplot -e "name='web'; dir='out'; term='png'; sla=300"
if (term eq 'png') set terminal pngcairo size 900,520 font ',10'; \
else set terminal svg size 900,520 dynamic font 'sans,10'
rounds = dir.'/'.name.'.rounds'
front = dir.'/'.name.'.front'
stops = dir.'/'.name.'.stops'
pol(s) = s eq 'xen-default' ? 1 : s eq 'qemu' ? 2 : s eq 'engine' ? 3 : \
         s eq 'engine-abort' ? 4 : s eq 'oracle-fewest' ? 5 : 6
set key outside right top
set grid

stats rounds using 2 nooutput
ymax = STATS_max
set output dir.'/'.name.'-rounds.'.term
set title name.': pages per precopy round (oracle trace, seed 1) and where each policy stopped (SLA '.sla.' ms)'
set xlabel 'precopy round (fraction: stopped mid-round)'
set ylabel 'pages in the round'
set logscale y
set style fill solid 0.35
set boxwidth 0.9
plot rounds using ($1+0.5):2 with boxes lc rgb '#8899aa' title 'pages dirty per round', \
     for [i=1:6] stops using ((pol(strcol(1)) == i) ? $2 : 1/0):(1):(0):(ymax) \
        with vectors nohead lw 2 lc i title word('xen-default qemu engine engine-abort oracle-fewest oracle-min-downtime', i)

set output dir.'/'.name.'-front.'.term
set title name.': downtime against pages sent, every stop point the loop offers (seed 1)'
set xlabel 'pages sent (precopy + stop-and-copy)'
set ylabel 'downtime (ms)'
set logscale y
set arrow 1 from graph 0, first sla to graph 1, first sla nohead dt 2 lc rgb 'red'
plot front using 2:3 with points pt 7 ps 0.4 lc rgb '#8899aa' title 'stop points (oracle)', \
     for [i=1:6] stops using ((pol(strcol(1)) == i) ? $3 : 1/0):4 with points pt (i+3) ps 2 lw 2 lc i \
        title word('xen-default qemu engine engine-abort oracle-fewest oracle-min-downtime', i)
