"""HAProxy 2.6 (Debian's), in the foreground: one address for the API hosts, health-checked on /health.

Retries: `retry-on` beyond `conn-failure` replays a request that a server may already have run, so it is
allowed only where a replay is safe. GETs are safe, and so is a create that carries an Idempotency-Key (the
API answers a replay with the first answer); a POST without one is never replayed, while a connection failure
(the request never reached a server) is retried for every request.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

from sale_orders_tools.lab.layout import BALANCER, Layout
from sale_orders_tools.lab.procs import LabError

INSTALL = "apt-get install haproxy"
SERVER_TIMEOUT_S = 15


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


def config(layout: Layout, admin_socket: Path) -> str:
    errors = "\n".join(
        f"    http-error status {status} content-type application/problem+json"
        f" string '{_problem(status, title)}' hdr Retry-After 1"
        for status, title in _BALANCER_ERRORS.items()
    )
    servers = "\n".join(f"    server {api.name} {api.address}:{api.http[1]} check" for api in layout.api_hosts)
    return f"""\
global
    log stderr format short local0 info
    stats socket {admin_socket} mode 600 level admin

defaults
    mode http
    log global
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

backend api_hosts
    balance roundrobin
    option httpchk GET /health
    http-check expect status 200
    http-check disable-on-404
    retry-on conn-failure empty-response response-timeout 503
    http-request disable-l7-retry if {{ method POST }} !{{ req.hdr(Idempotency-Key) -m found }}
    default-server inter 500ms fastinter 250ms downinter 1s fall 2 rise 2
{servers}
"""


def argv(config_file: Path) -> list[str]:
    return [program(), "-db", "-f", str(config_file)]


def check_config(config_file: Path) -> str | None:
    """HAProxy's complaint about the configuration, or None when it is valid."""
    done = subprocess.run([program(), "-c", "-q", "-f", str(config_file)], capture_output=True, text=True, check=False)  # noqa: S603
    return None if done.returncode == 0 else (done.stdout + done.stderr).strip()


def server_states(admin_socket: Path) -> dict[str, str]:
    """Each API host's state as HAProxy sees it (UP, DOWN, NOLB, MAINT...), from its admin socket."""
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(1)
            sock.connect(str(admin_socket))
            sock.sendall(b"show stat\n")
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
    except OSError:
        return {}
    lines = data.decode(errors="replace").splitlines()
    if not lines:
        return {}
    header = lines[0].lstrip("# ").split(",")
    states: dict[str, str] = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("pxname") == "api_hosts" and row.get("svname") not in {"FRONTEND", "BACKEND", None}:
            states[row["svname"]] = row.get("status", "")
    return states
