"""Reading /metrics: samples by name and labels, and how much they moved between two scrapes (the shared harness)."""

from sale_orders_tools.harness.gauges import Samples, moved, parse, value

__all__ = ["Samples", "moved", "parse", "value"]
