"""Reading a server's gauges while something runs: its /metrics per family, and a process's memory.

`parse`, `value` and `moved` read one /metrics text; `scrape` sums a server's samples by (name, family).
Gauges are instantaneous, so they are polled while a block runs (`Poller`): `GaugePeaks` keeps the highest pool
and thread gauges, `MetricsCapture` adds the requests and 5xx the block added (`bench matrix --metrics`), and
`RssPeak` the highest resident memory of a process (`rss_kib`).
"""

import contextlib
import threading
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Self

from prometheus_client.parser import text_string_to_metric_families

from sale_orders.family.record import FAMILY_NAMES

COUNTERS = {"requests": "sale_orders_requests_total", "errors_5xx": "sale_orders_requests_error_total"}
GAUGES = ("db_pool_in_use", "db_pool_waiting", "thread_pool_busy", "thread_pool_queued")
JOIN_SECONDS = 30

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a Prometheus text exposition, by (sample name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(
        sample
        for (sample_name, sample_labels), sample in samples.items()
        if sample_name == name and wanted <= sample_labels
    )


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much the samples named `name` with `labels` grew from `before` to `after`."""
    return value(after, name, **labels) - value(before, name, **labels)


def scrape(base_url: str) -> dict[tuple[str, str], float]:
    """Every sample of the server's /metrics that has a family label, summed by (sample name, family)."""
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=10) as response:  # noqa: S310 - our URL
        text = response.read().decode()
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for (name, labels), sample in parse(text).items():
        family = dict(labels).get("family")
        if family is not None:
            totals[name, family] += sample
    return totals


def rss_kib(pid: int) -> int:
    """Resident memory of one process (VmRSS in /proc/PID/status), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


class Poller:
    """Calls `sample()` every `interval` seconds from a thread of its own while a `with` block runs."""

    def __init__(self, interval: float, name: str) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, name=name, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=JOIN_SECONDS)


class GaugePeaks(Poller):
    """The highest pool and thread gauges of a server's /metrics while a block runs (a failed scrape is skipped)."""

    def __init__(self, base_url: str, interval: float = 1.0) -> None:
        super().__init__(interval, "gauge-peaks")
        self.base_url = base_url
        self.peaks: dict[tuple[str, str], float] = {}

    def record(self) -> dict[tuple[str, str], float]:
        """One scrape, its gauges counted into the peaks."""
        samples = scrape(self.base_url)
        for key, sample in samples.items():
            if key[0].removeprefix("sale_orders_") in GAUGES:
                self.peaks[key] = max(self.peaks.get(key, 0.0), sample)
        return samples

    def sample(self) -> None:
        with contextlib.suppress(OSError):  # a busy server may miss a scrape; the next one counts
            self.record()

    def of(self, family: str) -> dict[str, float]:
        """The family's peaks as `max_<gauge>` (0 for a gauge never seen)."""
        return {f"max_{gauge}": self.peaks.get((f"sale_orders_{gauge}", family), 0.0) for gauge in GAUGES}


class MetricsCapture(GaugePeaks):
    """Scrape a server's /metrics when a block starts, every `interval` seconds during it, and when it ends."""

    def __init__(self, base_url: str, interval: float = 0.5) -> None:
        super().__init__(base_url, interval)
        self.first: dict[tuple[str, str], float] = {}
        self.last: dict[tuple[str, str], float] = {}

    def __enter__(self) -> Self:
        self.first = self.record()
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.last = self.record()

    def summary(self) -> dict[str, dict[str, float]]:
        """Per family: requests and 5xx added during the block, and the peak of each pool gauge."""
        return {
            family: {
                **{
                    name: self.last.get((metric, family), 0.0) - self.first.get((metric, family), 0.0)
                    for name, metric in COUNTERS.items()
                },
                **self.of(family),
            }
            for family in FAMILY_NAMES
        }


class RssPeak(Poller):
    """The highest VmRSS of a process while a block runs."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(interval, "rss-peak")
        self.pid = pid
        self.peak = rss_kib(pid)

    def sample(self) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            self.peak = max(self.peak, rss_kib(self.pid))
