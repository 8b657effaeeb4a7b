"""Watching a server's /metrics while something runs: requests, 5xx and the worst pool waits per family.

`with MetricsCapture(base_url) as capture: ...` scrapes when the block starts, every `interval` seconds
while it runs (the gauges are instantaneous), and when it ends; `capture.summary()` then tells, per family,
how many requests and 5xx the block added and the highest connections in use, checkouts waiting, and
(for the thread pool's family) threads busy and calls queued. Used by `bench --metrics`.
"""

import threading
import urllib.request
from collections import defaultdict
from typing import Self

from prometheus_client.parser import text_string_to_metric_families

from sale_orders.family.record import FAMILY_NAMES

COUNTERS = {"requests": "sale_orders_requests_total", "errors_5xx": "sale_orders_requests_error_total"}
GAUGES = ("db_pool_in_use", "db_pool_waiting", "thread_pool_busy", "thread_pool_queued")


def scrape(base_url: str) -> dict[tuple[str, str], float]:
    """Every sample of /metrics that has a family label, summed by (sample name, family)."""
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as response:  # noqa: S310 - our URL
        text = response.read().decode()
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if "family" in sample.labels:
                totals[sample.name, sample.labels["family"]] += sample.value
    return totals


class MetricsCapture:
    """Scrape a server's /metrics around a block, and every `interval` seconds during it."""

    def __init__(self, base_url: str, interval: float = 0.5) -> None:
        self.base_url = base_url
        self.interval = interval
        self.first: dict[tuple[str, str], float] = {}
        self.last: dict[tuple[str, str], float] = {}
        self.peaks: dict[tuple[str, str], float] = defaultdict(float)
        self._stop = threading.Event()
        self._poller = threading.Thread(target=self._poll, name="metrics-capture", daemon=True)

    def _record(self) -> dict[tuple[str, str], float]:
        samples = scrape(self.base_url)
        for gauge in GAUGES:
            for family in FAMILY_NAMES:
                key = (f"sale_orders_{gauge}", family)
                self.peaks[key] = max(self.peaks[key], samples.get(key, 0.0))
        return samples

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self._record()

    def __enter__(self) -> Self:
        self.first = self._record()
        self._poller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._poller.join()
        self.last = self._record()

    def summary(self) -> dict[str, dict[str, float]]:
        """Per family: requests and 5xx added during the block, and the peak of each pool gauge."""
        return {
            family: {
                **{
                    name: self.last.get((metric, family), 0.0) - self.first.get((metric, family), 0.0)
                    for name, metric in COUNTERS.items()
                },
                **{f"max_{gauge}": self.peaks[f"sale_orders_{gauge}", family] for gauge in GAUGES},
            }
            for family in FAMILY_NAMES
        }
