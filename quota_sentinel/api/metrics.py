"""/metrics: Prometheus text. Redis-backed series come from a collector run at scrape time;
per-process HTTP counters are summed over gunicorn's processes (prometheus_client's
multiprocess mode, PROMETHEUS_MULTIPROC_DIR)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

from flask import Flask, Response, g, request
from flask.views import MethodView
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from quota_sentinel.api.smorest import Blueprint
from quota_sentinel.config import Settings
from quota_sentinel.engine import Status
from quota_sentinel.services.metrics import MetricsReport, metrics_report
from quota_sentinel.web.access import context, require_team_reader

blp = Blueprint(
    "metrics", __name__, url_prefix="/metrics", description="Prometheus metrics (admin token)."
)

NS = "quota_sentinel"
# The forecast fields exported per window, with their metric name and help.
WINDOW_GAUGES = (
    ("utilization", "window_utilization_percent", "Utilization of the window, percent."),
    ("velocity_pct_per_hour", "window_velocity_percent_per_hour", "Burn rate, % per hour."),
    ("projected_exhaustion_min", "window_minutes_to_cap", "Minutes until the cap is reached."),
    ("projected_at_reset", "window_projected_at_reset_percent", "Utilization at the reset, %."),
)
_WINDOW_LABELS = ["provider", "plan", "account", "window"]


class HttpMetrics:
    """This process's request counter and latency histogram (one set per process)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.requests = Counter(
            f"{NS}_http_requests",
            "HTTP requests served, by route and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            f"{NS}_http_request_duration_seconds",
            "Time to serve a request, by route.",
            ["route", "method"],
            registry=registry,
        )


_process: tuple[HttpMetrics, CollectorRegistry | None] | None = None


def instrument(app: Flask, settings: Settings) -> None:
    """Counts every request of `app` in this process's metrics."""
    global _process
    if _process is None:
        # `_created` timestamps would double the series for nothing a dashboard uses.
        disable_created_metrics()
        registry = None
        if settings.metrics_dir is None:
            registry = CollectorRegistry(auto_describe=True)
        else:
            Path(settings.metrics_dir).mkdir(parents=True, exist_ok=True)
        _process = (HttpMetrics(registry), registry)
    http = _process[0]

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        route = request.url_rule.rule if request.url_rule else "unmatched"
        http.requests.labels(route, request.method, str(response.status_code)).inc()
        if started is not None:
            http.latency.labels(route, request.method).observe(time.perf_counter() - started)
        return response


class RedisCollector:
    """Series read from Redis at scrape time: the same on every replica."""

    def __init__(self, report: MetricsReport) -> None:
        self.report = report

    def collect(self) -> Iterator[Metric]:
        report = self.report
        gauges = {
            field: GaugeMetricFamily(f"{NS}_{name}", text, labels=_WINDOW_LABELS)
            for field, name, text in WINDOW_GAUGES
        }
        status = GaugeMetricFamily(
            f"{NS}_window_status",
            "1 for the window's current status (GREEN, YELLOW, RED, UNKNOWN), else 0.",
            labels=[*_WINDOW_LABELS, "status"],
        )
        age = GaugeMetricFamily(
            f"{NS}_account_last_poll_age_seconds",
            "Seconds since the account was last polled.",
            labels=["provider", "plan", "account"],
        )
        subs = GaugeMetricFamily(
            f"{NS}_account_subscribers",
            "Live instances subscribed to the account, by their state.",
            labels=["provider", "plan", "account", "state"],
        )
        for acct in report.accounts:
            ids = [acct.provider, acct.plan, acct.account]
            if acct.poll_age_s is not None:
                age.add_metric(ids, acct.poll_age_s)
            for state, count in sorted(acct.subscribers.items()):
                subs.add_metric([*ids, state], count)
            for window, view in sorted(acct.windows.items()):
                forecast = view.forecast
                for field, gauge in gauges.items():
                    value = getattr(forecast, field)
                    if value is not None:
                        gauge.add_metric([*ids, window], value)
                for s in Status:
                    status.add_metric([*ids, window, s.value], int(forecast.status == s))
        yield from gauges.values()
        yield from (status, age, subs)
        yield from self._service(report)

    def _service(self, report: MetricsReport) -> Iterator[Metric]:
        yield _family(
            CounterMetricFamily,
            "polls",
            "Provider polls, by outcome (ok or the error code).",
            ["provider", "outcome"],
            report.polls,
        )
        yield _family(
            GaugeMetricFamily,
            "instances",
            "Live instances by framework and state.",
            ["framework", "state"],
            report.instances,
        )
        queues = {(name,): depth for name, depth in report.queues.items()}
        yield _family(
            GaugeMetricFamily, "queue_depth", "Jobs waiting in each RQ queue.", ["queue"], queues
        )
        yield _family(GaugeMetricFamily, "workers", "RQ workers alive.", [], {(): report.workers})


def _family(kind, name: str, text: str, labels: list[str], rows: dict[tuple, float]) -> Metric:
    """A metric family `quota_sentinel_<name>` with one sample per (label values) → value."""
    family = kind(f"{NS}_{name}", text, labels=labels)
    for values, value in sorted(rows.items()):
        family.add_metric(list(values), value)
    return family


def exposition() -> bytes:
    """The whole scrape: Redis-backed series plus the per-process counters of every process."""
    ctx = context()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RedisCollector(metrics_report(ctx, ctx.clock())))
    if ctx.settings.metrics_dir is not None:
        MultiProcessCollector(registry, path=str(ctx.settings.metrics_dir))
    elif _process is not None and _process[1] is not None:
        for collector in (_process[0].requests, _process[0].latency):
            registry.register(collector)
    return generate_latest(registry)


@blp.route("")
class Metrics(MethodView):
    @blp.response(200, description="Prometheus text exposition format.")
    def get(self):
        """Prometheus metrics: accounts, windows, polls, instances, HTTP, queues (admin token)"""
        require_team_reader()
        return Response(exposition(), mimetype=None, content_type=CONTENT_TYPE_LATEST)
