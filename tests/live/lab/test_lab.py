"""`sale-orders lab run`: several hosts on one machine under faults; nothing acknowledged lost, nothing created twice,
no read stale, no client missing its own write.

One `lab run --quick` for the module (each fault once, a few minutes), its last line and results.json checked;
and start/stop runs (`lab baseline`, and a SIGTERM while it starts) that must leave no process, port or file.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sale_orders_lab.catalogue import NAMES as FAULT_NAMES
from tests.support.tools import require_tool

ROOT = Path(__file__).resolve().parents[3]
FINAL = re.compile(
    r"^lab: (\d+) faults, acknowledged lost (\d+), duplicated (\d+), unkeyed duplicated (\d+),"
    r" stale reads (\d+), read-your-writes violations (\d+)",
    re.MULTILINE,
)
TEARDOWN = re.compile(r"^lab teardown (\{.*\})$", re.MULTILINE)


@dataclass
class Run:
    status: int
    output: str
    results: dict[str, Any] | None

    def final(self) -> tuple[int, int, int, int, int, int]:
        """Faults, acknowledged lost, duplicated, unkeyed duplicated, stale reads, read-your-writes violations."""
        match = FINAL.search(self.output)
        assert match, self.output[-5000:]
        faults, lost, duplicated, unkeyed, stale, ryw = (int(group) for group in match.groups())
        return faults, lost, duplicated, unkeyed, stale, ryw

    def teardown(self) -> dict[str, Any]:
        match = TEARDOWN.search(self.output)
        assert match, self.output[-5000:]
        teardown: dict[str, Any] = json.loads(match.group(1))
        return teardown


@pytest.fixture(scope="module")
def lab_tools() -> None:
    """haproxy and etcd from Debian; Patroni, which the lab installs into its cache venv on first use."""
    require_tool("haproxy", install="apt-get install haproxy", paths=["/usr/sbin/haproxy"])
    require_tool("etcd", install="apt-get install etcd-server")
    if os.geteuid() == 0:
        require_tool("setpriv", install="apt-get install util-linux")
    from sale_orders_lab.patroni import ensure_patroni  # noqa: PLC0415
    from sale_orders_lab.procs import LabError  # noqa: PLC0415

    try:
        program = str(ensure_patroni(print))
    except LabError as exc:
        program = f"/nonexistent ({exc})"
    require_tool("patroni", install="uv run sale-orders lab run (installs it once)", paths=[program])


def lab(*options: str, output: Path | None = None, timeout: float = 1100) -> Run:
    command = [sys.executable, "-m", "sale_orders.cli", "lab", *options]
    if output is not None:
        command.append(f"--output={output}")
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    results = None
    if output is not None and (output / "results.json").exists():
        results = json.loads((output / "results.json").read_text())
    return Run(done.returncode, done.stdout + done.stderr, results)


def running(pid: int, start: int) -> bool:
    """Whether that very process (same PID and start time) still runs; a zombie does not."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] not in {"Z", "X"} and int(fields[19]) == start


def listening(address: str) -> bool:
    import socket  # noqa: PLC0415

    host, port = address.rsplit(":", 1)
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, int(port))) == 0


def assert_nothing_left(teardown: dict[str, Any]) -> None:
    assert teardown["processes"], "the lab saw no process of its own"
    deadline = time.monotonic() + 10  # a bound on a fail-fast wait: processes reaped by init
    while (left := [p for p in teardown["processes"] if running(*p)]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == []
    assert [address for address in teardown["ports"] if listening(address)] == []
    assert not Path(teardown["folder"]).exists()
    assert teardown["left_running"] == []
    assert teardown["ports_in_use"] == []


@pytest.fixture(scope="module")
def quick(lab_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Run:
    del lab_tools
    return lab("run", "--quick", output=tmp_path_factory.mktemp("lab"))


@pytest.mark.timeout(1200)
def test_quick_lab_loses_nothing_creates_nothing_twice_and_reads_nothing_stale(quick: Run) -> None:
    faults, *found = quick.final()
    assert found == [0, 0, 0, 0, 0], quick.output[-5000:]
    assert faults == len(FAULT_NAMES), quick.output[-5000:]


@pytest.mark.timeout(1200)
def test_clients_read_their_writes_back_through_other_hosts_mostly_from_standbys(quick: Run) -> None:
    assert quick.results is not None, quick.output[-5000:]
    summary = quick.results["summary"]
    assert summary["reads_back_answered"] > 100, summary
    assert summary["reads_back_through_another_host"] > summary["reads_back_answered"] / 2, summary
    assert summary["standby_share"] is not None, summary
    assert summary["standby_share"] > 0.5, summary


def failovers(run: Run) -> list[dict[str, Any]]:
    assert run.results is not None, run.output[-5000:]
    rows = [row for row in run.results["faults"] if row.get("fault") in {"primary-kill", "patroni-kill"}]
    assert len(rows) == 2, run.results["final_line"]
    return rows


@pytest.mark.timeout(1200)
def test_in_a_failover_every_api_host_stays_in_rotation_and_answers_503_with_retry_after(quick: Run) -> None:
    # The balancer checks /health/live: no host leaves it, and each refuses writes with the API's own 503 (and
    # Retry-After) at once, and writes again once the new primary is in its HAProxy's rotation.
    for row in failovers(quick):
        notes = row["notes"]
        assert notes["balancer_marked_down"] == "none", (row["label"], notes)
        for host, line in notes["api_hosts"].items():
            assert line["first_refusal"].startswith("503 Retry-After"), (row["label"], host, line)
            assert line["refusals_with_retry_after"] == line["refused_writes"], (row["label"], host, line)
            assert line["first_refusal_s"] < 2, (row["label"], host, line)  # HAProxy: 2 checks 500 ms apart
            assert line["writes_2xx_again_s"] is not None, (row["label"], host, line)
            assert line["writes_2xx_again_s"] < notes["promoted_after_s"] + 5, (row["label"], host, line)


@pytest.mark.timeout(1200)
def test_a_primary_whose_patroni_died_gets_no_connection_and_rejoins_as_a_standby(quick: Run) -> None:
    # The hole a multi-host DSN leaves (patroni#1762): PostgreSQL runs on, read-write, after its Patroni died.
    # HAProxy, checking Patroni's REST API, routes nothing to it; its Patroni, back, demotes it and rewinds it.
    row = next(row for row in failovers(quick) if row["fault"] == "patroni-kill")
    notes = row["notes"]
    assert notes["orphan_read_write"] == "read-write", notes
    assert notes["orphan_routed"] == "never", notes
    assert notes["old_primary_writes_committed"] == 0, notes
    assert notes["rejoined_after_s"] is not None, notes
    assert row["stale_reads"] == 0, row


@pytest.mark.timeout(1200)
def test_quick_lab_injected_every_fault_and_recovered(quick: Run) -> None:
    assert quick.results is not None, quick.output[-5000:]
    rows = [row for row in quick.results["faults"] if "fault" in row]
    assert [row["fault"] for row in rows] == list(FAULT_NAMES)
    not_over = [row["label"] for row in rows if not row["injected"] or row["recovered_s"] is None]
    assert not_over == [], quick.results["final_line"]
    summary = quick.results["summary"]
    assert summary["not_recovered"] == [], quick.results["final_line"]
    assert quick.status == 0, quick.output[-5000:]
    assert summary["acknowledged"] > 0
    assert summary["key_mismatches"] == 0
    assert summary["unknown_orders"] == 0
    assert summary["failover_write_outage_s"] is not None


@pytest.mark.timeout(1200)
def test_a_host_drained_before_its_sigterm_costs_no_client_an_error(quick: Run) -> None:
    # Without the drain, a request HAProxy sent on a keep-alive connection as uvicorn closed it got no answer,
    # and an unkeyed create cannot be replayed: its client saw RemoteProtocolError.
    assert quick.results is not None, quick.output[-5000:]
    stops = [row for row in quick.results["faults"] if row.get("fault") in {"api-term", "rolling-restart"}]
    assert len(stops) == 2, quick.results["final_line"]
    for row in stops:
        assert row["errors"] == {}, (row["label"], row["errors"])
    term = next(row for row in stops if row["fault"] == "api-term")
    assert term["notes"]["exit_status"] == 0
    assert term["notes"]["drained_s"] >= 0


@pytest.mark.timeout(1200)
def test_quick_lab_leaves_nothing_behind(quick: Run) -> None:
    assert_nothing_left(quick.teardown())


@pytest.mark.timeout(600)
def test_start_and_stop_leave_no_process_port_or_file(lab_tools: None) -> None:
    del lab_tools
    run = lab("baseline", timeout=500)
    assert run.status == 0, run.output[-5000:]
    assert run.final()[1:] == (0, 0, 0, 0, 0)
    assert_nothing_left(run.teardown())


@pytest.fixture
def starting_lab(lab_tools: None) -> Iterator[subprocess.Popen[str]]:
    del lab_tools
    command = [sys.executable, "-m", "sale_orders.cli", "lab", "baseline"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


@pytest.mark.timeout(600)
def test_sigterm_while_starting_stops_everything(starting_lab: subprocess.Popen[str]) -> None:
    assert starting_lab.stdout is not None
    lines = []
    for line in starting_lab.stdout:  # ends when the lab exits: bounded by the test's timeout
        lines.append(line)
        if "links up" in line:
            starting_lab.send_signal(signal.SIGTERM)
    output = "".join(lines)
    assert starting_lab.wait(60) != 0, output
    assert "interrupted" in output, output
    assert_nothing_left(Run(starting_lab.returncode, output, None).teardown())
