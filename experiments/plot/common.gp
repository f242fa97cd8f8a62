# Shared settings for experiments/plot/*.gp (called with -e "dir='RESULTS'").
set terminal pngcairo size 900,600 font "DejaVu Sans,11" noenhanced
set datafile separator ","
set key top right box opaque
set grid
set border lw 1.2
