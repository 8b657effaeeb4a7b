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
        "### What the proxy itself costs (0 ms against direct, default sizing, medians of the rounds)",
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


def _rate(row: Row) -> str:
    """Median req/s, and the spread of the rounds when there was more than one."""
    text = _number(row["requests_per_s"])
    if row.get("rounds", 1) > 1:
        text += f" ({_number(row['min_requests_per_s'])}-{_number(row['max_requests_per_s'])})"
    return text


def _cell(row: Row | None) -> tuple[str, str, str]:
    if row is None:
        return "-", "-", "-"
    return _rate(row), f"{row['p50_ms']:.1f} / {row['p99_ms']:.1f}", _number(row["ratio_to_0ms"], 2)


def _versus(row: Row | None, comparison: dict[str, Any] | None) -> str:
    """Recommended over defaults: the ratio of the medians, each round's own (or their range), and the verdict."""
    if row is None or row["sizing"] == "defaults":
        return "-"
    if row.get("same_as"):
        return "="
    if comparison is None or comparison["ratio"] is None:
        return "-"
    rounds = comparison["round_ratios"]
    # Two rounds' ratios are shown as they are; more, as their range.
    few = len(rounds) <= 2
    each = ", ".join(f"{ratio:.2f}" for ratio in rounds) if few else f"{min(rounds):.2f}-{max(rounds):.2f}"
    verdict = comparison["verdict"].removeprefix("recommended ")
    return f"**{comparison['ratio']:.2f}** ({each})" + (f" {verdict}" if verdict in {"faster", "slower"} else "")


def _queues(sync: Row | None, async_: Row | None) -> tuple[str, str]:
    return (
        f"{_number(sync['max_thread_pool_busy'])} / {_number(sync['max_thread_pool_queued'])}" if sync else "-",
        f"{_number(async_['max_db_pool_in_use'])} / {_number(async_['max_db_pool_waiting'])}" if async_ else "-",
    )


def sweep_lines(network: dict[str, Any]) -> list[str]:
    medians = network["figures"]
    rounds = network["rounds"]
    by_key = {(r["endpoint"], r["concurrency"], r["delay"], r["sizing"], r["family"]): r for r in medians}
    versus = {(c["delay"], c["endpoint"], c["family"], c["concurrency"]): c for c in network["comparisons"]}
    lines = [
        "### Throughput and latency against the delay",
        "",
        (
            f"At each delay both sizings were served side by side and every run was repeated in {rounds} rounds, "
            "defaults then recommended in odd rounds, recommended then defaults in even ones, the two runs of a "
            "round next to each other. req/s = the median of the rounds (min-max, their spread); p50 / p99 = "
            "medians. rec/def = recommended over defaults req/s: the ratio of the medians in bold, then each "
            "round's own ratio (with more than two rounds, their range); `faster` or `slower` only when every "
            "round agrees, with at least 3 rounds. x 0 ms = the median over the same family, endpoint, "
            "concurrency and sizing through the proxy at 0 ms. errors = non-2xx + socket errors of all rounds "
            "(sync / async). sync busy / queued = the most threads busy and calls queued for a thread, async in "
            "use / waiting = the most connections in use and checkouts waiting, from the API's /metrics in any "
            "round. = marks a sizing equal to the defaults there (served once)."
        ),
        "",
    ]
    endpoints = list(dict.fromkeys(r["endpoint"] for r in medians))
    concurrencies = sorted({r["concurrency"] for r in medians})
    for endpoint in endpoints:
        lines += [
            f"#### `{endpoint}`",
            "",
            (
                "| c | delay | sizing | sync req/s | sync p50 / p99 ms | sync x 0 ms | sync rec/def | async req/s "
                "| async p50 / p99 ms | async x 0 ms | async rec/def | errors s/a | sync busy / queued "
                "| async in use / waiting |"
            ),
            "|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for concurrency in concurrencies:
            for delay in network["delays"]:
                for sizing_name in network["sizings"]:
                    pair = [by_key.get((endpoint, concurrency, delay, sizing_name, f)) for f in FAMILIES]
                    present = [row for row in pair if row is not None]
                    if not present:
                        continue
                    same = " =" if present[0].get("same_as") else ""
                    cells = [
                        cell
                        for family, row in zip(FAMILIES, pair, strict=True)
                        for cell in (*_cell(row), _versus(row, versus.get((delay, endpoint, family, concurrency))))
                    ]
                    errors = " / ".join(str(row["errors"]) if row else "-" for row in pair)
                    queues = _queues(*pair)
                    lines.append(
                        f"| {concurrency} | {delay} | {sizing_name}{same} | "
                        + " | ".join(cells)
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
            f"{settings['orders']:,} demo orders, {settings['workers']} worker(s), {network['rounds']} alternating "
            f"rounds of {settings['duration_s']} s per run, "
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


def _series(rows: Sequence[Row], delays: Sequence[str]) -> tuple[list[int], list[Row]]:
    by_delay = {row["delay"]: row for row in rows}
    points = [(i, by_delay[d]) for i, d in enumerate(delays) if d in by_delay]
    return [i for i, _ in points], [row for _, row in points]


def plot_network(network: dict[str, Any], output: Path) -> list[Path]:
    """Per endpoint and concurrency: req/s (median, a bar for the rounds' spread) and p99 against the delay."""
    medians: list[Row] = network["figures"]
    delays: list[str] = network["delays"]
    written = []
    for endpoint in dict.fromkeys(r["endpoint"] for r in medians):
        for concurrency in sorted({r["concurrency"] for r in medians}):
            figure, (throughput, latency) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
            for axes, field in ((throughput, "requests_per_s"), (latency, "p99_ms")):
                for family in FAMILIES:
                    for sizing_name in network["sizings"]:
                        rows = [
                            r
                            for r in medians
                            if (r["endpoint"], r["concurrency"], r["family"], r["sizing"])
                            == (endpoint, concurrency, family, sizing_name)
                        ]
                        x, points = _series(rows, delays)
                        y = [row[field] for row in points]
                        spread = None
                        if field == "requests_per_s":
                            spread = [
                                [row[field] - row["min_requests_per_s"] for row in points],
                                [row["max_requests_per_s"] - row[field] for row in points],
                            ]
                        axes.errorbar(
                            x,
                            y,
                            yerr=spread,
                            capsize=3,
                            marker=MARKERS[sizing_name],
                            linestyle=LINESTYLES[sizing_name],
                            linewidth=2,
                            color=COLORS[family],
                            label=f"{family}, {sizing_name} sizing",
                        )
                        failed = [(i, row[field]) for i, row in zip(x, points, strict=True) if row["errors"]]
                        axes.plot([i for i, _ in failed], [v for _, v in failed], "x", color="red", markersize=10)
                axes.set_xticks(range(len(delays)), delays)
                axes.set_xlabel("one-way delay to PostgreSQL (direct: no proxy)")
                axes.grid(visible=True, alpha=0.3)
                axes.legend(fontsize=8)
            throughput.set_ylabel("requests/s")
            throughput.set_ylim(bottom=0)
            throughput.set_title("throughput, median of the rounds, bar: min-max (higher is better)")
            latency.set_ylabel("p99 latency (ms, log scale)")
            latency.set_yscale("log")
            for axis in (latency.yaxis.set_major_formatter, latency.yaxis.set_minor_formatter):
                axis(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
            latency.set_title("median p99 latency (lower is better); red x: errors in a round")
            figure.suptitle(f"{endpoint}, c={concurrency}: def (sync) and async def with PostgreSQL further away")
            path = output / f"{BY_NAME[endpoint].slug}-c{concurrency}.png"
            figure.savefig(path, dpi=100)
            plt.close(figure)
            written.append(path)
    return written
