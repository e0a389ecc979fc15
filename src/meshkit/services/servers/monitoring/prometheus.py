"""The latest samples on the service's ``/metrics``, as Prometheus gauges.

A custom collector: at each scrape it turns the sampler's in-memory latest samples into
``meshkit_servers_host_<metric>{host, name[, mount|interface]}`` and
``meshkit_servers_<container metric>{host, name, container, deployment}`` gauges (no
Redis call during a scrape; the sampler refreshes them every interval, with the hosts
other instances sampled too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from meshkit.services.servers.monitoring.models import METRICS, Sample

PREFIX = "meshkit_servers_"


def family_name(metric: str) -> str:
    """The Prometheus name of a monitoring metric."""
    return PREFIX + (metric if metric.startswith("container_") else f"host_{metric}")


class MonitoringCollector(Collector):
    """Gauges of the latest sample of every host (module docstring)."""

    def __init__(
        self,
        latest: Callable[[], Mapping[str, Sample]],
        names: Callable[[], Mapping[str, str]],
    ) -> None:
        self.latest = latest
        self.names = names

    def collect(self) -> Iterator[Metric]:
        """One gauge family per metric that any latest sample has."""
        names = self.names()
        families: dict[str, GaugeMetricFamily] = {}
        for host_id, sample in sorted(self.latest().items()):
            for point in sample.points:
                meaning, label_names = METRICS.get(point.name, ("", ()))
                family = families.get(point.name)
                if family is None:
                    family = families[point.name] = GaugeMetricFamily(
                        family_name(point.name),
                        meaning or point.name,
                        labels=["host", "name", *label_names],
                    )
                extra = [point.labels.get(label, "") for label in label_names]
                family.add_metric([host_id, names.get(host_id, ""), *extra], point.value)
        yield from families.values()
