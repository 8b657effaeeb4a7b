"""A user-space TCP proxy that adds one-way latency and can "cut" the link, for tests and benchmarks.

The kernel here has no netem and tests may not use iptables or namespaces, so latency and link cuts are
made in user space, between a client and a server both on loopback::

    client ──► 127.0.0.1:6000 (proxy) ──► 127.0.0.1:5432 (PostgreSQL)

Features
--------
* **Delay**: every chunk read from one side is written to the other side ``delay`` seconds after it was
  read (a per-direction, one-way delay), in order. This is latency, not throttling: many chunks can be in
  flight at once. ``--delay-ms 2`` makes a request/response round trip about 4 ms longer.
* **Hold** (a cut link that never answers): no byte is forwarded in either direction, nothing is closed,
  no RST, no FIN. Reading stops on both sides, so what the peers send waits in the kernel's buffers;
  connections accepted during a hold are not connected upstream until it is lifted. Releasing the hold
  forwards everything that was buffered, in order.
* **Reset**: abort every open connection with an RST (a link that fails loudly).
* A FIN from either side closes both sides, once what it sent before has been forwarded (PostgreSQL's
  protocol has no half-closed state).
* **Counters**: connections, bytes and chunks per direction, "turns" (how often the client spoke again after
  the server did: the round trips the client waited for) and, optionally, PostgreSQL frontend message
  types (``Q``, ``P``, ``B``, ``E``, ``S``...) parsed from the client's stream.

Precision: delays are timed on the monotonic clock; a delayed chunk is written on average 0.1-0.3 ms after it
is due on this 2-core machine (``lateness_ms_*`` in the stats), and waking the peers that sleep meanwhile adds a
little more: +2 ms one way took a ``SELECT 1`` round trip to 4.6-4.7 ms (p50) here. Counters count what the
proxy read, held or not.

Fidelity: while held, the proxy's kernel still ACKs what the client sends and answers TCP keepalive probes,
exactly as a live but stalled peer would (a frozen server, a hung PgBouncer). A real cable cut differs:
nothing is ACKed, so the client's TCP keepalives and ``TCP_USER_TIMEOUT`` do fire there, and never here.
A new connection during a hold completes its TCP handshake (the kernel accepts it) and then waits for the
server's first byte; on a real cut it would wait in SYN-SENT instead. Both look like a hang to a driver.

Control
-------
In process (inside a running event loop)::

    async with LatencyProxy(("127.0.0.1", 6000), ("127.0.0.1", 5432), delay_ms=2) as proxy:
        proxy.hold(); ...; proxy.release(); proxy.set_delay(5); proxy.stats()

From synchronous code (the proxy runs its own loop in a daemon thread; every method is thread-safe)::

    with ProxyThread(("127.0.0.1", 6000), ("127.0.0.1", 5432)) as proxy:
        proxy.hold(); ...

From another process: ``--control HOST:PORT`` opens a line-oriented control port (loopback only), whose
commands (``control.COMMANDS``: ``hold``, ``release``, ``delay [up|down] MS``, ``reset``, ``stats`` as JSON,
``zero``, ``ping``) are each a subcommand of the CLI; ``process.proxy_process`` runs a proxy in a child process
and drives it. SIGUSR1 holds and SIGUSR2 releases a proxy started by the CLI.

CLI (``sale-orders faultproxy`` or ``python -m sale_orders_faultproxy``; ``--help`` on each subcommand)::

    python -m sale_orders_faultproxy serve --listen 127.0.0.1:6000 --target 127.0.0.1:5432 --delay-ms 5 --control :6001
    python -m sale_orders_faultproxy hold --control 127.0.0.1:6001
    python -m sale_orders_faultproxy delay up 5 --control 127.0.0.1:6001
"""
