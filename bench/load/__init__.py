"""The load and first-paint benchmarks' parts (bench/load_test.py, bench/first_paint.py)."""
