"""`bench network`: both families with PostgreSQL milliseconds away, behind the delay proxy, and what sizing costs.

The API (`sale-orders serve`, as the matrix serves it) reaches PostgreSQL directly, then through the fault proxy
(`sale_orders_faultproxy`, its own process) at each one-way delay; at each delay it is served with the default
sizing and, side by side, with the sizing rule's (`sale_orders_bench.sizing`), and every endpoint x concurrency x
family is driven with wrk in alternating rounds (defaults first in odd rounds, recommended first in even ones).
Then the cost of a thread and of a connection: the worker's RSS with N requests in flight in each family, and the
memory of PostgreSQL's backends. Every process it starts is stopped by its PID at the end.

`links`: where PostgreSQL is (direct, or through the proxy) and its round trip; `sweep`: every point, its sizings
served side by side and measured in rounds; `figures`: the rounds' medians, spread and ratios (no I/O); `costs`: what
a thread and a connection cost; `run`: the whole measurement.
"""
