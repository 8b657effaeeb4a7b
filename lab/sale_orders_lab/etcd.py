"""etcd 3.4 (Debian's `etcd-server`), one member: Patroni's store of who leads."""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from typing import TYPE_CHECKING

from sale_orders_lab.layout import ETCD_CLIENT, ETCD_PEER
from sale_orders_lab.procs import LabError

if TYPE_CHECKING:
    from pathlib import Path

INSTALL = "apt-get install etcd-server"


def program() -> str:
    found = shutil.which("etcd")
    if found is None:
        raise LabError(f"etcd is not installed: {INSTALL}")
    return found


def argv(data_dir: Path) -> list[str]:
    client = f"http://{ETCD_CLIENT[0]}:{ETCD_CLIENT[1]}"
    peer = f"http://{ETCD_PEER[0]}:{ETCD_PEER[1]}"
    return [
        program(),
        "--name=e1",
        f"--data-dir={data_dir}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=e1={peer}",
        "--initial-cluster-state=new",
        "--initial-cluster-token=sale-orders-lab",
    ]


def healthy() -> bool:
    url = f"http://{ETCD_CLIENT[0]}:{ETCD_CLIENT[1]}/health"
    try:
        with urllib.request.urlopen(url, timeout=0.5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
