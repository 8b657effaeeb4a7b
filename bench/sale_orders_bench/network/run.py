"""`bench network` from start to end: a scratch PostgreSQL with room for the load, the proxy, the sweep, the costs."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sale_orders_bench import sizing
from sale_orders_bench.errors import HarnessError
from sale_orders_bench.network.costs import measure_costs
from sale_orders_bench.network.figures import comparisons, figures, proxy_cost
from sale_orders_bench.network.links import DIRECT, Point, proxy_target
from sale_orders_bench.network.sweep import Network, Sweep, beside_connections, sweep_points
from sale_orders_bench.report import write_markdown
from sale_orders_bench.report_network import network_markdown, plot_network
from sale_orders_bench.scenarios import Progress
from sale_orders_bench.session import Measurement, prepared
from sale_orders_faultproxy.process import ProxyProcess, ProxyStartError, proxy_process
from sale_orders_faultproxy.stats import Target


@contextmanager
def _proxy_process(target: Target, logs: Path) -> Iterator[ProxyProcess]:
    try:
        with proxy_process(target, logs / "faultproxy.log") as proxy:
            yield proxy
    except ProxyStartError as exc:
        raise HarnessError(str(exc)) from exc


def wanted_connections(network: Network) -> int:
    """Enough for both pools at the highest concurrency and for the costs, beside the defaults server's pools.

    A pool beyond the highest concurrency is never used.
    """
    top = max([*network.run.concurrency, *network.costs])
    return int(2 * top + 2 * sizing.RESERVED_CONNECTIONS + beside_connections(network))


def measurement(network: Network) -> Measurement:
    """`bench network`: fills the document, writes results.md and the plots, returns the errors seen."""
    run = network.run
    # Nearest first: the rule sizes each point from the rates kept at 0 ms (or direct), measured before it.
    delays = sorted(set(network.delays), key=lambda delay: -1.0 if delay == DIRECT else float(delay))
    points = [Point(None if delay == DIRECT else float(delay)) for delay in delays]

    def measure(output: Path, document: dict[str, Any]) -> list[str]:
        errors: list[str] = []
        with (
            prepared(run, output, document, min_connections=wanted_connections(network)) as ready,
            _proxy_process(proxy_target(ready.url), ready.logs) as proxy,
        ):
            target = proxy_target(ready.url)
            print(f"proxy: 127.0.0.1:{proxy.listen[1]} -> {target} (PID {proxy.process.pid})", flush=True)
            runs = len(points) * len(network.sizings) * network.rounds * len(network.targets)
            costs = len(network.costs) * len(run.families)
            sweep = Sweep(network, ready, proxy, Progress(runs + costs), errors)
            rows, plans = sweep_points(sweep, points)
            medians = figures(rows)
            results: dict[str, Any] = {
                "delays": [point.label for point in points],
                "sizings": list(network.sizings),
                "rounds": network.rounds,
                "max_connections": ready.database.max_connections,
                "max_connections_note": ready.database.max_connections_note,
                "proxy_pid": proxy.process.pid,
                "round_trips": {e: dict(sizing.ROUND_TRIPS[e]) for e in network.endpoints},
                "plans": plans,
                "runs": rows,
                "figures": medians,
                "comparisons": comparisons(rows),
                "proxy_cost": proxy_cost(medians, plans),
            }
            document["network"] = results
            if network.costs:
                results["costs"] = measure_costs(sweep, network.costs)
        document["errors"] = errors
        document["plots"] = [path.name for path in plot_network(results, output)]
        write_markdown(output / "results.md", document, [network_markdown(document)])
        return errors

    return measure
