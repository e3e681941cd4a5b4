"""Timing helper shared by the benchmark scripts."""
import statistics
import time


def median_time(f, runs, warmup=3):
    for _ in range(warmup):
        f()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)
