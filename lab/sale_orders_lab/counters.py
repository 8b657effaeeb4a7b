"""Where reads were answered, from each API host's own /metrics (`sale_orders_reads_total{family,served_by}`).

The lab scrapes every host at each fault's start and at the end; a window's reads are the growth of the counters
between two scrapes, summed over hosts. A host started again begins from zero (its metrics folder is emptied at
start): a counter that went down counts from zero. Reads a host answered between its last scrape and its death are
not counted. "standby" means the host's READ_DATABASE_URL answered, which is the primary itself when the HAProxy's
replica port has no healthy replica and falls back to its backup servers.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sale_orders_lab.layout import Layout

_READS = re.compile(r"^sale_orders_reads_total\{(?P<labels>[^}]*)\} (?P<value>[0-9.e+]+)$", re.MULTILINE)
_LABEL = re.compile(r'(\w+)="([^"]*)"')

Sample = dict[str, Counter[str]]
"""host -> served_by -> reads answered so far."""


def scrape(base_url: str, token: str, timeout: float = 2.0) -> Counter[str] | None:
    """One host's reads by where they were answered, or None when it does not answer."""
    request = urllib.request.Request(f"{base_url}/metrics", headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the lab's own host
            text = response.read().decode()
    except (urllib.error.URLError, OSError):
        return None
    found: Counter[str] = Counter()
    for match in _READS.finditer(text):
        labels = dict(_LABEL.findall(match.group("labels")))
        found[labels.get("served_by", "?")] += int(float(match.group("value")))
    return found


@dataclass
class ReadCounters:
    """Scrapes of every API host, by mark (a fault's label, or "end")."""

    layout: Layout
    token: str
    marks: list[tuple[str, Sample]] = field(default_factory=list)

    def mark(self, label: str) -> None:
        sample: Sample = {}
        for api in self.layout.api_hosts:
            if (found := scrape(api.base_url, self.token)) is not None:
                sample[api.name] = found
        self.marks.append((label, sample))

    def windows(self) -> dict[str, Counter[str]]:
        """Reads by where they were answered, per window: from each mark to the next."""
        found: dict[str, Counter[str]] = {}
        for (label, before), (_, after) in zip(self.marks, self.marks[1:], strict=False):
            total: Counter[str] = Counter()
            for host, now in after.items():
                then = before.get(host, Counter())
                for served_by, value in now.items():
                    grown = value - then.get(served_by, 0)
                    total[served_by] += grown if grown >= 0 else value
            found[label] = total
        return found


def standby_share(reads: Counter[str]) -> float | None:
    answered = reads.get("standby", 0) + reads.get("primary", 0)
    return None if answered == 0 else round(reads.get("standby", 0) / answered, 3)
