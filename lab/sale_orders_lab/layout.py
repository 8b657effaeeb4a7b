"""Where everything of the lab lives: one loopback address per host, fixed ports, one folder.

An API host reaches PostgreSQL through an HAProxy of its own (as Patroni's documentation places it, beside the
application): its primary port routes to the node whose Patroni says `/primary`, its replica port to those that say
`/replica`. Each of that HAProxy's servers is a link: a fault proxy on the API host's address to one database host.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

Address = tuple[str, int]

ETCD_CLIENT: Address = ("127.0.0.10", 2379)
ETCD_PEER: Address = ("127.0.0.10", 2380)
BALANCER: Address = ("127.0.0.30", 8080)
PG_PORT = 5432
PATRONI_PORT = 8008
API_PORT = 8000
# On each API host, its HAProxy's database ports (Patroni's template uses 5000 and 5001 too).
PRIMARY_PORT = 5000
REPLICA_PORT = 5001
# On each API host, one fault proxy per database host: the link from that API host to that database host.
LINK_PORT_BASE = 5400
LINK_CONTROL_PORT_BASE = 5500
DATABASE = "sale_orders"
APP_ROLE = "sale_orders"


@dataclass(frozen=True)
class DbHost:
    """A database host: Patroni and its PostgreSQL, on 127.0.0.2N."""

    number: int

    @property
    def name(self) -> str:
        return f"pg{self.number}"

    @property
    def address(self) -> str:
        return f"127.0.0.2{self.number}"

    @property
    def postgres(self) -> Address:
        return (self.address, PG_PORT)

    @property
    def rest(self) -> Address:
        return (self.address, PATRONI_PORT)


@dataclass(frozen=True)
class Link:
    """The fault proxy on an API host that carries its connections to one database host."""

    api: str
    db: DbHost
    listen: Address
    control: Address


@dataclass(frozen=True)
class ApiHost:
    """An API host: `sale-orders serve --workers 2` on 127.0.0.3N, its HAProxy, and its links to every database host."""

    number: int
    db_hosts: tuple[DbHost, ...]

    @property
    def name(self) -> str:
        return f"api{self.number}"

    @property
    def address(self) -> str:
        return f"127.0.0.3{self.number}"

    @property
    def http(self) -> Address:
        return (self.address, API_PORT)

    @property
    def base_url(self) -> str:
        return f"http://{self.address}:{API_PORT}"

    @property
    def primary(self) -> Address:
        """Its HAProxy's port for writes: the node whose Patroni holds the leader key and runs a primary."""
        return (self.address, PRIMARY_PORT)

    @property
    def replicas(self) -> Address:
        """Its HAProxy's port for reads: the nodes Patroni calls healthy replicas, the primary when there is none."""
        return (self.address, REPLICA_PORT)

    @property
    def links(self) -> tuple[Link, ...]:
        return tuple(
            Link(
                self.name,
                db,
                (self.address, LINK_PORT_BASE + db.number),
                (self.address, LINK_CONTROL_PORT_BASE + db.number),
            )
            for db in self.db_hosts
        )


@dataclass(frozen=True)
class Secrets:
    """Passwords of one run, made at random: they never leave the lab's folder and the processes' environments."""

    superuser: str = field(default_factory=lambda: secrets.token_hex(12))
    replication: str = field(default_factory=lambda: secrets.token_hex(12))
    rewind: str = field(default_factory=lambda: secrets.token_hex(12))
    app: str = field(default_factory=lambda: secrets.token_hex(12))


@dataclass(frozen=True)
class Layout:
    """The lab's hosts and its folder (removed when the lab stops)."""

    root: Path
    db_hosts: tuple[DbHost, ...] = (DbHost(1), DbHost(2))
    api_count: int = 3
    secrets: Secrets = field(default_factory=Secrets)

    @property
    def api_hosts(self) -> tuple[ApiHost, ...]:
        return tuple(ApiHost(number, self.db_hosts) for number in range(1, self.api_count + 1))

    @property
    def balancer_url(self) -> str:
        return f"http://{BALANCER[0]}:{BALANCER[1]}"

    def folder(self, name: str) -> Path:
        return self.root / name

    def ports(self) -> list[Address]:
        """Every address and port the lab listens on: all must be free before it starts and after it stops."""
        ports: list[Address] = [ETCD_CLIENT, ETCD_PEER, BALANCER]
        for db in self.db_hosts:
            ports += [db.postgres, db.rest]
        for api in self.api_hosts:
            ports += [api.http, api.primary, api.replicas]
            for link in api.links:
                ports += [link.listen, link.control]
        return ports

    def app_url(self, api: ApiHost) -> str:
        """The DATABASE_URL of one API host: its HAProxy's primary port."""
        return self._url(api.primary)

    def read_url(self, api: ApiHost) -> str:
        """The READ_DATABASE_URL of one API host: its HAProxy's replica port."""
        return self._url(api.replicas)

    def _url(self, address: Address) -> str:
        return f"postgresql://{APP_ROLE}:{self.secrets.app}@{address[0]}:{address[1]}/{DATABASE}"

    def admin_dsn(self, database: str = "postgres", timeout: int = 2) -> str:
        """A libpq DSN for the lab itself: the superuser, straight to whichever database host is writable."""
        hosts = ",".join(db.address for db in self.db_hosts)
        ports = ",".join(str(PG_PORT) for _ in self.db_hosts)
        return (
            f"host={hosts} port={ports} dbname={database} user=postgres password={self.secrets.superuser}"
            f" target_session_attrs=read-write connect_timeout={timeout}"
        )

    def node_dsn(self, db: DbHost, database: str = DATABASE, timeout: int = 2) -> str:
        """A libpq DSN to one database host, whatever its role."""
        return (
            f"host={db.address} port={PG_PORT} dbname={database} user=postgres password={self.secrets.superuser}"
            f" connect_timeout={timeout}"
        )
