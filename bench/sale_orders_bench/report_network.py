"""`bench network`'s results: the sizing per delay, round trips, the proxy's cost, the sweep, costs, and plots."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
from matplotlib import ticker

from sale_orders_bench.endpoints import BY_NAME, FAMILIES
from sale_orders_bench.report import COLORS, Row

LINESTYLES = {"defaults": "-", "recommended": "--"}
MARKERS = {"defaults": "o", "recommended": "s"}


def _number(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _sizing_text(env: dict[str, str]) -> str:
    return " / ".join(env[name] for name in ("SYNC_THREADS", "SYNC_POOL_SIZE", "ASYNC_POOL_SIZE"))


def _mib(kib: float | None) -> str:
    return "-" if kib is None else f"{kib / 1024:,.1f}"


def sizing_lines(network: dict[str, Any]) -> list[str]:
    lines = [
        "### Sizing at each delay",
        "",
        (
            "SYNC_THREADS / SYNC_POOL_SIZE / ASYNC_POOL_SIZE. The rule (sale_orders_bench.sizing): in flight = rate x "
            "the "
            "time a request holds its connection; a `def` request holds it for round trips x RTT + its CPU time, an "
            "`async def` request for round trips x RTT; x2 headroom; at least the defaults; both pools within "
            "max_connections. RTT is the median `SELECT 1` measured at that delay; the rates to keep are each "
            "family's best req/s per endpoint through the proxy at 0 ms (before that point: direct; before that: "
            "sale_orders_bench.sizing NEAR_RATES), in results.json under `plans`."
        ),
        "",
        (
            "| delay | SELECT 1 ms (median / p90) | defaults | recommended | held most by (mean in flight) | rates "
            "| note |"
        ),
        "|---|--:|--:|--:|---|---|---|",
    ]
    for plan in network["plans"]:
        held = "; ".join(f"{n['family']}: `{n['endpoint']}` ({n['in_flight']:.1f})" for n in plan["needs"])
        notes = []
        if plan["floored"]:
            notes.append("defaults where the rule asks for less: " + ", ".join(plan["floored"]))
        if plan["capped"]:
            notes.append(f"capped by max_connections ({plan['allowed_connections']} for the pools)")
        rtt = plan["rtt_ms"]
        lines.append(
            f"| {plan['delay']} | {rtt['median_ms']:.2f} / {rtt['p90_ms']:.2f} | {_sizing_text(plan['defaults'])} "
            f"| {_sizing_text(plan['recommended'])} | {held} | {', '.join(plan['rates_from'])} | {'; '.join(notes)} |"
        )
    return [*lines, ""]


def round_trip_lines(network: dict[str, Any]) -> list[str]:
    lines = [
        "### Round trips per request",
        "",
        (
            "Counted from the code (sale_orders_bench.sizing `ROUND_TRIPS`, what the rule uses) and measured: the "
            "proxy's "
            "`turns` (each time a client spoke again after the server answered) over the requests wrk completed, "
            "mean of the runs through the proxy with the default sizing."
        ),
        "",
        "| endpoint | family | counted | measured |",
        "|---|---|--:|--:|",
    ]
    runs = network["runs"]
    for endpoint, counted in network["round_trips"].items():
        for family in FAMILIES:
            measured = [
                r["round_trips_per_request"]
                for r in runs
                if (r["endpoint"], r["family"], r["sizing"]) == (endpoint, family, "defaults")
                and r["round_trips_per_request"] is not None
            ]
            mean = sum(measured) / len(measured) if measured else None
            lines.append(f"| `{endpoint}` | {family} | {counted.get(family, '-')} | {_number(mean, 2)} |")
    return [*lines, ""]


def proxy_lines(network: dict[str, Any]) -> list[str]:
    cost = network["proxy_cost"]
    rtt = cost["select_1_ms"]
    lines = [
        "### What the proxy itself costs (0 ms against direct, default sizing)",
        "",
        (
            f"`SELECT 1`: {_number(rtt.get('direct'), 3)} ms direct (unix socket), "
            f"{_number(rtt.get('0 ms'), 3)} ms through the proxy at 0 ms (TCP to the proxy, the proxy to the socket)."
        ),
        "",
        "| endpoint | c | family | direct req/s | proxy 0 ms req/s | ratio | p50 ms direct / proxy |",
        "|---|--:|---|--:|--:|--:|--:|",
    ]
    lines += [
        f"| `{c['endpoint']}` | {c['concurrency']} | {c['family']} | {_number(c['direct_requests_per_s'])} "
        f"| {_number(c['proxy_requests_per_s'])} | {_number(c['ratio'], 2)} "
        f"| {c['direct_p50_ms']:.1f} / {c['proxy_p50_ms']:.1f} |"
        for c in cost["runs"]
    ]
    return [*lines, ""]


def _cell(row: Row | None) -> tuple[str, str, str]:
    if row is None:
        return "-", "-", "-"
    return (
        _number(row["requests_per_s"]),
        f"{row['p50_ms']:.1f} / {row['p99_ms']:.1f}",
        _number(row["ratio_to_0ms"], 2),
    )


def sweep_lines(network: dict[str, Any]) -> list[str]:
    runs = network["runs"]
    by_key = {(r["endpoint"], r["concurrency"], r["delay"], r["sizing"], r["family"]): r for r in runs}
    lines = [
        "### Throughput and latency against the delay",
        "",
        (
            "x 0 ms = requests/s over the same family, endpoint, concurrency and sizing through the proxy at 0 ms. "
            "errors = non-2xx + socket errors (sync / async). sync busy / queued = the most threads busy and calls "
            "queued for a thread, async in use / waiting = the most connections in use and checkouts waiting, from "
            "the API's /metrics during the run. = marks a sizing equal to the defaults there (measured once)."
        ),
        "",
    ]
    endpoints = list(dict.fromkeys(r["endpoint"] for r in runs))
    concurrencies = sorted({r["concurrency"] for r in runs})
    for endpoint in endpoints:
        lines += [
            f"#### `{endpoint}`",
            "",
            (
                "| c | delay | sizing | sync req/s | sync p50 / p99 ms | sync x 0 ms | async req/s "
                "| async p50 / p99 ms | async x 0 ms | errors s/a | sync busy / queued | async in use / waiting |"
            ),
            "|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for concurrency in concurrencies:
            for delay in network["delays"]:
                for sizing_name in network["sizings"]:
                    sync, async_ = (by_key.get((endpoint, concurrency, delay, sizing_name, f)) for f in FAMILIES)
                    present = [row for row in (sync, async_) if row is not None]
                    if not present:
                        continue
                    same = " =" if present[0].get("same_as") else ""
                    errors = " / ".join(str(row["errors"]) if row else "-" for row in (sync, async_))
                    queues = (
                        f"{_number(sync['max_thread_pool_busy'])} / {_number(sync['max_thread_pool_queued'])}"
                        if sync
                        else "-",
                        f"{_number(async_['max_db_pool_in_use'])} / {_number(async_['max_db_pool_waiting'])}"
                        if async_
                        else "-",
                    )
                    lines.append(
                        f"| {concurrency} | {delay} | {sizing_name}{same} | "
                        + " | ".join([*_cell(sync), *_cell(async_)])
                        + f" | {errors} | {queues[0]} | {queues[1]} |"
                    )
        lines.append("")
    return lines


def cost_lines(costs: dict[str, Any]) -> list[str]:
    if "steps" not in costs:
        return ["### What a thread and a connection cost", "", costs.get("skipped", "not measured"), ""]
    lines = [
        "### What a thread and a connection cost",
        "",
        (
            f"A fresh worker per family, sized {costs['sizing']['SYNC_THREADS']} threads and connections, driven with "
            f"`{costs['endpoint']}` at N connections through the proxy, at a delay where N requests in flight need "
            "few req/s (the worker's CPU is not the limit). VmRSS of the worker idle (after a warm-up), at its highest "
            "with N in flight, and after (the pool keeps its connections, the thread pool its threads). In the sync "
            "family each request in flight is a busy thread holding a psycopg2 connection; in the async family an "
            "asyncpg connection. PostgreSQL: its client backends of the database after the step, mean PSS and private "
            "memory (/proc/PID/smaps_rollup); own contexts = `pg_backend_memory_contexts` of a fresh backend."
        ),
        "",
        (
            "| family | N | delay ms | req/s | errors | RSS idle MiB | RSS peak MiB | KiB per request in flight "
            "| RSS after MiB | KiB per kept connection | threads busy | connections in use | backends "
            "| backend PSS KiB | backend private KiB | own contexts KiB |"
        ),
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for step in costs["steps"]:
        pg = step["postgres"]
        lines.append(
            f"| {step['family']} | {step['in_flight']} | {step['delay_ms']:g} | {_number(step['requests_per_s'])} "
            f"| {step['errors']} | {_mib(step['rss_idle_kib'])} | {_mib(step['rss_peak_kib'])} "
            f"| {_number(step['kib_per_request_in_flight'])} | {_mib(step['rss_after_kib'])} "
            f"| {_number(step['kib_per_connection_kept'])} | {_number(step['max_thread_pool_busy'])} "
            f"| {_number(step['max_db_pool_in_use'])} | {pg['backends']} | {_number(pg['mean_pss_kib'])} "
            f"| {_number(pg['mean_private_kib'])} | {_number(pg['own_memory_contexts_kib'])} |"
        )
    return [*lines, ""]


def network_markdown(document: dict[str, Any]) -> list[str]:
    network = document["network"]
    settings = document["settings"]
    lines = [
        "## Across a network: PostgreSQL behind a delay proxy",
        "",
        (
            f"{settings['orders']:,} demo orders, {settings['workers']} worker(s), {settings['duration_s']} s per run, "
            f"wrk with {settings['wrk_threads']} thread(s), the fault proxy (faultproxy/sale_orders_faultproxy) in a "
            "process of its own adding the one-way delay to each direction; wrk, the proxy, PostgreSQL and the server "
            f"share the machine. PostgreSQL: {network['max_connections_note']}."
        ),
        "",
        *sizing_lines(network),
        *round_trip_lines(network),
    ]
    if any(row["delay"] == "direct" for row in network["runs"]) and network["proxy_cost"]["runs"]:
        lines += proxy_lines(network)
    lines += sweep_lines(network)
    if "costs" in network:
        lines += cost_lines(network["costs"])
    return lines


def _series(rows: Sequence[Row], delays: Sequence[str], field: str) -> tuple[list[int], list[float]]:
    by_delay = {row["delay"]: row[field] for row in rows}
    points = [(i, by_delay[d]) for i, d in enumerate(delays) if d in by_delay]
    return [i for i, _ in points], [value for _, value in points]


def plot_network(network: dict[str, Any], output: Path) -> list[Path]:
    """Per endpoint and concurrency: req/s and p99 against the delay, a line per family and sizing."""
    runs: list[Row] = network["runs"]
    delays: list[str] = network["delays"]
    written = []
    for endpoint in dict.fromkeys(r["endpoint"] for r in runs):
        for concurrency in sorted({r["concurrency"] for r in runs}):
            figure, (throughput, latency) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
            for axes, field in ((throughput, "requests_per_s"), (latency, "p99_ms")):
                for family in FAMILIES:
                    for sizing_name in network["sizings"]:
                        rows = [
                            r
                            for r in runs
                            if (r["endpoint"], r["concurrency"], r["family"], r["sizing"])
                            == (endpoint, concurrency, family, sizing_name)
                        ]
                        x, y = _series(rows, delays, field)
                        axes.plot(
                            x,
                            y,
                            marker=MARKERS[sizing_name],
                            linestyle=LINESTYLES[sizing_name],
                            linewidth=2,
                            color=COLORS[family],
                            label=f"{family}, {sizing_name} sizing",
                        )
                        failed = [i for i, d in enumerate(delays) for r in rows if r["delay"] == d and r["errors"]]
                        axes.plot(failed, [y[x.index(i)] for i in failed], "x", color="red", markersize=10)
                axes.set_xticks(range(len(delays)), delays)
                axes.set_xlabel("one-way delay to PostgreSQL (direct: no proxy)")
                axes.grid(visible=True, alpha=0.3)
                axes.legend(fontsize=8)
            throughput.set_ylabel("requests/s")
            throughput.set_ylim(bottom=0)
            throughput.set_title("throughput (higher is better)")
            latency.set_ylabel("p99 latency (ms, log scale)")
            latency.set_yscale("log")
            for axis in (latency.yaxis.set_major_formatter, latency.yaxis.set_minor_formatter):
                axis(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
            latency.set_title("p99 latency (lower is better); red x: a run with errors")
            figure.suptitle(f"{endpoint}, c={concurrency}: def (sync) and async def with PostgreSQL further away")
            path = output / f"{BY_NAME[endpoint].slug}-c{concurrency}.png"
            figure.savefig(path, dpi=100)
            plt.close(figure)
            written.append(path)
    return written
