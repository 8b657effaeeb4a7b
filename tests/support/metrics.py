"""Reading /metrics: samples by name and labels, and how much they moved between two scrapes."""

from prometheus_client.parser import text_string_to_metric_families

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
