"""The HAProxy on each API host that routes its database connections by what Patroni says, not by a host list.

Two ports (TCP), each server a link of the API host (its fault proxy to one database host), each checked on that
database host's Patroni REST API (`check addr ... port 8008`), never through the link:

- primary (`DATABASE_URL`): `GET /primary`, 200 only on the node whose Patroni holds the leader key and runs a
  primary. A node whose Patroni died answers nothing, so its PostgreSQL gets no connection even while it still
  calls itself read-write: the hole a multi-host DSN with `target_session_attrs=read-write` leaves (patroni#1762).
- replicas (`READ_DATABASE_URL`): `GET /replica`, 200 on a running replica; each node again as a `backup` server
  that tracks its state in the primary backend, so that reads still have a server when no replica is healthy.

`on-marked-down shutdown-sessions` closes the connections to a node the moment it is marked down, so a pool holds no
connection to a node that lost its role; `on-marked-up shutdown-backup-sessions` moves reads back from the primary
to a replica that came back. The checks run every 500 ms and 2 failures mark a node down (Patroni's template: 3 s
and 3): a dead Patroni is out of rotation within about a second.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sale_orders_lab import haproxy

if TYPE_CHECKING:
    from pathlib import Path

    from sale_orders_lab.layout import ApiHost

PRIMARY = "primary"
REPLICAS = "replicas"
CHECKS = "inter 500ms fastinter 250ms downinter 500ms fall 2 rise 2"


def _server(name: str, listen: tuple[str, int], rest: tuple[str, int]) -> str:
    return f"    server {name} {listen[0]}:{listen[1]} check addr {rest[0]} port {rest[1]}"


def config(api: ApiHost, admin_socket: Path) -> str:
    """The configuration of `api`'s HAProxy."""
    nodes = "\n".join(_server(link.db.name, link.listen, link.db.rest) for link in api.links)  # in both listens
    backups = "\n".join(
        f"    server {link.db.name}-primary {link.listen[0]}:{link.listen[1]} backup track {PRIMARY}/{link.db.name}"
        for link in api.links
    )
    return f"""\
{haproxy.preamble(admin_socket, "tcp")}\
    option tcplog
    option dontlog-normal
    timeout connect 1s
    timeout client 30m
    timeout server 30m
    timeout check 1s

listen {PRIMARY}
    bind {api.primary[0]}:{api.primary[1]}
    option httpchk
    http-check send meth GET uri /primary
    http-check expect status 200
    default-server {CHECKS} on-marked-down shutdown-sessions
{nodes}

listen {REPLICAS}
    bind {api.replicas[0]}:{api.replicas[1]}
    balance roundrobin
    option httpchk
    http-check send meth GET uri /replica
    http-check expect status 200
    default-server {CHECKS} on-marked-down shutdown-sessions on-marked-up shutdown-backup-sessions
{nodes}
{backups}
"""


def states(admin_socket: Path) -> dict[str, dict[str, str]]:
    """Each backend's servers and their states: {"primary": {"pg1": "UP", ...}, "replicas": {...}}."""
    return {backend: haproxy.server_states(admin_socket, backend) for backend in (PRIMARY, REPLICAS)}


def up(admin_socket: Path, backend: str) -> list[str]:
    """The servers of `backend` that are UP now."""
    return sorted(name for name, state in haproxy.server_states(admin_socket, backend).items() if state == "UP")
