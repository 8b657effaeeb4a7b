"""`bench network`'s rounds: both sizings alternate (ABBA), each target's two runs side by side; medians with spread.

No server and no database: `serve_point` is driven with stand-ins for the API servers and for one wrk run, so the
order the runs happen in is the order the real sweep uses.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest

from sale_orders_bench.network import sweep
from sale_orders_bench.network.figures import comparisons, figures, schedule
from sale_orders_bench.network.links import Point
from sale_orders_bench.options import Run
from sale_orders_bench.report_network import sweep_lines

GAUGES = {"max_db_pool_in_use": 0, "max_db_pool_waiting": 0, "max_thread_pool_busy": 0, "max_thread_pool_queued": 0}


def run_row(sizing: str, round_number: int, rate: float, family: str = "sync") -> dict[str, Any]:
    return {
        "delay": "5 ms", "delay_ms": 5.0, "proxied": True, "sizing": sizing, "round": round_number,
        "endpoint": "POST /contact", "family": family, "concurrency": 8, "requests": int(rate), "requests_per_s": rate,
        "p50_ms": 10.0, "p99_ms": 20.0, "errors": 0, "round_trips_per_request": 1.0, **GAUGES,
    }  # fmt: skip


def test_odd_rounds_keep_the_order_given_and_even_rounds_reverse_it() -> None:
    assert list(schedule(["defaults", "recommended"], 4)) == [
        (1, ("defaults", "recommended")),
        (2, ("recommended", "defaults")),
        (3, ("defaults", "recommended")),
        (4, ("recommended", "defaults")),
    ]
    assert list(schedule(["defaults"], 2)) == [(1, ("defaults",)), (2, ("defaults",))]


def test_serve_point_runs_each_target_with_both_sizings_next_to_each_other_in_abba_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[str] = []

    @contextmanager
    def api_server(_url: object, env: dict[str, str], _workers: int, _logs: object) -> Iterator[object]:
        started.append(env["SYNC_THREADS"])
        yield SimpleNamespace(process=SimpleNamespace(pid=1000 + len(started)))

    def measure(*args: Any, sizing_name: str, round_number: int) -> dict[str, Any]:
        endpoint, concurrency, family = args[3]
        return {"sizing": sizing_name, "round": round_number, "target": (endpoint.name, concurrency, family)}

    monkeypatch.setattr(sweep, "api_server", api_server)
    monkeypatch.setattr(sweep, "_measure", measure)
    run = Run(quick=True, orders=1, concurrency=[8, 64], duration_s=1, warmup_s=0, families=["sync", "async"])
    network = sweep.Network(run, ["5"], ["defaults", "recommended"], [], ["POST /contact"], rounds=2)
    fake = SimpleNamespace(
        network=network, run=run, ready=SimpleNamespace(logs=None), url_for=lambda _point: "url",
        bench=lambda _url, api: SimpleNamespace(api=api),
    )  # fmt: skip
    envs = {"defaults": {"SYNC_THREADS": "16"}, "recommended": {"SYNC_THREADS": "40"}}

    rows, pids = sweep.serve_point(fake, Point(5.0), envs)  # type: ignore[arg-type]

    assert started == ["16", "40"], "both sizings are served at once, before the first run"
    assert pids == {"defaults": 1001, "recommended": 1002}
    targets = [("POST /contact", c, f) for c in (8, 64) for f in ("sync", "async")]
    expected = [
        (round_number, target, name)
        for round_number, order in ((1, ("defaults", "recommended")), (2, ("recommended", "defaults")))
        for target in targets
        for name in order
    ]
    assert [(r["round"], r["target"], r["sizing"]) for r in rows] == expected
    assert {r["sync_threads"] for r in rows if r["sizing"] == "recommended"} == {40}


def test_figures_are_medians_of_the_rounds_with_their_spread_and_each_rounds_ratio() -> None:
    runs = [
        run_row("defaults", 1, 100.0), run_row("recommended", 1, 120.0),
        run_row("recommended", 2, 90.0), run_row("defaults", 2, 80.0),
        run_row("defaults", 3, 110.0), run_row("recommended", 3, 121.0),
    ]  # fmt: skip

    medians = {r["sizing"]: r for r in figures(runs)}
    assert medians["defaults"]["requests_per_s"] == 100.0
    assert (medians["defaults"]["min_requests_per_s"], medians["defaults"]["max_requests_per_s"]) == (80.0, 110.0)
    assert medians["recommended"]["rounds"] == 3
    [comparison] = comparisons(runs)
    assert comparison["round_ratios"] == [1.2, 1.125, 1.1]
    assert comparison["ratio"] == 1.2
    assert comparison["verdict"] == "recommended faster"

    lines = sweep_lines({"figures": figures(runs), "rounds": 3, "comparisons": [comparison], "delays": ["5 ms"],
                         "sizings": ["defaults", "recommended"]})  # fmt: skip
    recommended = next(line for line in lines if "| recommended |" in line)
    assert "120 (90-121)" in recommended
    assert "**1.20** (1.10-1.20) faster" in recommended
