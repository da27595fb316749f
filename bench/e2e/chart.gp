# Draws bench/results/e2e-chart.svg from bench/results/e2e-results.json:
#   gnuplot -e "data='RESULTS_JSON'" -e "out='SVG'" -e "helper='bench/e2e/chart_data.py'" chart.gp
# Top: saturation throughput per scenario. Bottom: p50 and p99 latency at
# half load (log scale: the agent-kill scenarios reach 100 ms, and so can
# the misbehaving mirrors of s8 and s9, up to wrk's 2 s timeout).
set terminal svg size 1200,1000 dynamic enhanced font "Helvetica,11" background rgb "white"
set output out
set datafile separator "\t"
sat = sprintf("< python3 '%s' '%s' sat", helper, data)
half = sprintf("< python3 '%s' '%s' half", helper, data)

set multiplot layout 2,1 title "spoa-shadow end-to-end benchmark (medians over rounds)" font ",14"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -30 scale 0 font ",9" nomirror
set grid ytics
set key top right
set bmargin 10

set title "Saturation: throughput"
set ylabel "requests/s"
set yrange [0:*]
plot sat using 3:xtic(2) title "req/s" lc rgb "#4472c4"

set title "Half load: latency"
set ylabel "ms (log scale)"
set logscale y
set yrange [0.1:*]
plot half using 4:xtic(2) title "p50" lc rgb "#70ad47", \
     half using 5 title "p99" lc rgb "#ed7d31"
unset multiplot
