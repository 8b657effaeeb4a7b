"""The shared harness of the benchmark, the lab, the tests and `contract`: what runs the API to measure or test it.

`databases`: scratch databases and embedded PostgreSQL servers, and SQL on them; `servers`: child servers with a
clean environment on free ports, waited for until healthy and stopped by PID; `gauges`: a server's /metrics and a
process's memory, polled while something runs.
"""
