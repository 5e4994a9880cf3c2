# Modules of bench/perf_suite.py (the s3mount performance suite); see bench/README.md.
