"""HAProxy 2.6 (Debian's), in the foreground: one address for the API hosts, health-checked on /health/live.

Liveness, not readiness: `/health/live` asks nothing of the database, so while the primary is away every API host
stays in rotation and answers the API's own fast 503 with Retry-After, instead of all of them being marked DOWN at
once and the client getting the balancer's 503.

A client may ask for one API host (`X-Lab-Host: api2`), which the lab's clients do to write through one host and
read through another; a host that is not UP, or is drained, is skipped as if nothing had been asked. Every answer
from a host names it (`X-Lab-Served-By`); an answer without it is the balancer's own.

Retries: `retry-on` beyond `conn-failure` replays a request that a server may already have run, so it is
allowed only where a replay is safe. GETs are safe, and so is a create that carries an Idempotency-Key (the
API answers a replay with the first answer); a POST without one is never replayed, while a connection failure
(the request never reached a server) is retried for every request.

Draining: a host about to stop is first set to `drain` on the admin socket (no new requests, the ones it runs
finish), then sent SIGTERM once it holds no request; it is set `ready` when it is back. Without that, a request
that HAProxy sends on a kept-alive connection just as uvicorn closes it gets no answer, and a POST without a key
cannot be replayed.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

from sale_orders_lab.layout import BALANCER, Layout
from sale_orders_lab.procs import LabError

INSTALL = "apt-get install haproxy"
SERVER_TIMEOUT_S = 15
PREFER_HEADER = "X-Lab-Host"
SERVED_BY_HEADER = "X-Lab-Served-By"
API_BACKEND = "api_hosts"


def program() -> str:
    found = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
    if found is None:
        raise LabError(f"haproxy is not installed: {INSTALL}")
    return found


_BALANCER_ERRORS = {
    502: "no API host answered properly",
    503: "no API host is available",
    504: "no API host answered in time",
}


def _problem(status: int, title: str) -> str:
    body = {
        "type": f"urn:sale-orders:problem:balancer-{status}",
        "title": title,
        "status": status,
        "detail": f"the load balancer: {title}; retry later",
    }
    return json.dumps(body, separators=(",", ":"))


def preamble(admin_socket: Path, mode: str) -> str:
    """What every lab HAProxy starts with: logs to stderr, the admin socket, `mode` and logging by default."""
    return f"""\
global
    log stderr format short local0 info
    stats socket {admin_socket} mode 600 level admin

defaults
    mode {mode}
    log global
"""


def config(layout: Layout, admin_socket: Path) -> str:
    errors = "\n".join(
        f"    http-error status {status} content-type application/problem+json"
        f" string '{_problem(status, title)}' hdr Retry-After 1"
        for status, title in _BALANCER_ERRORS.items()
    )
    servers = "\n".join(f"    server {api.name} {api.address}:{api.http[1]} check" for api in layout.api_hosts)
    # Only a host that takes new requests: `use-server` skips a DOWN host by itself, but counts as persistence,
    # which a drained host (weight 0) still accepts, and a drained host is about to get its SIGTERM.
    chosen = "\n".join(
        f"    use-server {api.name} if {{ req.hdr({PREFER_HEADER}) -m str {api.name} }}"
        f" {{ srv_weight({API_BACKEND}/{api.name}) gt 0 }}"
        for api in layout.api_hosts
    )
    return f"""\
{preamble(admin_socket, "http")}\
    option httplog
    option dontlog-normal                   # log what went wrong (errors, retries, redispatches) only
    timeout connect 1s
    timeout client 60s
    timeout server {SERVER_TIMEOUT_S}s
    timeout check 1s
    retries 3
    option redispatch 1                     # a retry goes to another server
    # HAProxy's own errors in the API's format (RFC 9457), so that clients parse them like the API's.
{errors}

frontend api
    bind {BALANCER[0]}:{BALANCER[1]}
    default_backend api_hosts

backend {API_BACKEND}
    balance roundrobin
    option httpchk GET /health/live
    http-check expect status 200
    http-check disable-on-404
    retry-on conn-failure empty-response response-timeout 503
    http-request disable-l7-retry if {{ method POST }} !{{ req.hdr(Idempotency-Key) -m found }}
    http-response set-header {SERVED_BY_HEADER} %[srv_name]
    default-server inter 500ms fastinter 250ms downinter 1s fall 2 rise 2
{chosen}
{servers}
"""


def argv(config_file: Path) -> list[str]:
    return [program(), "-db", "-f", str(config_file)]


def check_config(config_file: Path) -> str | None:
    """HAProxy's complaint about the configuration, or None when it is valid."""
    done = subprocess.run([program(), "-c", "-q", "-f", str(config_file)], capture_output=True, text=True, check=False)  # noqa: S603
    return None if done.returncode == 0 else (done.stdout + done.stderr).strip()


def ask(admin_socket: Path, command: str) -> str:
    """One command on HAProxy's admin socket, and its answer ("" when HAProxy is not there)."""
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(1)
            sock.connect(str(admin_socket))
            sock.sendall(command.encode() + b"\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
    except OSError:
        return ""
    return data.decode(errors="replace")


def server_rows(admin_socket: Path, backend: str = API_BACKEND) -> dict[str, dict[str, str]]:
    """`show stat`'s row of each server of `backend`, by server name ({} when HAProxy does not answer)."""
    lines = ask(admin_socket, "show stat").splitlines()
    if not lines:
        return {}
    header = lines[0].lstrip("# ").split(",")
    rows: dict[str, dict[str, str]] = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == backend and row.get("svname") not in {"FRONTEND", "BACKEND", None}:
            rows[row["svname"]] = row
    return rows


def server_states(admin_socket: Path, backend: str = API_BACKEND) -> dict[str, str]:
    """Each server's state as HAProxy sees it (UP, DOWN, DRAIN, NOLB, MAINT...), from its admin socket."""
    return {name: row.get("status", "") for name, row in server_rows(admin_socket, backend).items()}


def requests_running(admin_socket: Path, server: str) -> int | None:
    """How many requests HAProxy has on `server` now (its current sessions), or None when it cannot say."""
    row = server_rows(admin_socket).get(server)
    return int(row["scur"]) if row and row.get("scur", "").isdigit() else None


def set_state(admin_socket: Path, server: str, state: str) -> None:
    """`ready`, `drain` or `maint` for one API host; a LabError when HAProxy refuses."""
    answer = ask(admin_socket, f"set server {API_BACKEND}/{server} state {state}").strip()
    if answer:
        raise LabError(f"HAProxy refused to set {server} {state}: {answer}")
