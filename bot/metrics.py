"""GET /metrics in Prometheus' text format (prometheus-client), one registry per runtime.

What each replica counts itself: job state changes it saved (so a job is counted once per
state, by the replica that moved it), provider calls (latency and errors, by provider),
Slack API errors, how late turns start (poll lag), how long Slack waited for an ack. What the
store knows, read at scrape time: the queue depth (jobs due now) per provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.jobs import Job
from providers import http as provider_http

log = logging.getLogger(__name__)
CONTENT_TYPE = CONTENT_TYPE_LATEST
_LATENCY = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_LAG = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

QueueDepth = Callable[[str, float], Awaitable[int]]


class Metrics:
    def __init__(self, providers: Sequence[str], queue_depth: QueueDepth | None = None) -> None:
        self.registry = CollectorRegistry()
        self._providers = tuple(providers)
        self._queue_depth = queue_depth
        self.jobs = Counter(
            "reelbot_jobs", "Job state changes saved by this replica.",
            ["provider", "state"], registry=self.registry,
        )  # fmt: skip
        self.provider_seconds = Histogram(
            "reelbot_provider_request_seconds", "Provider API calls: how long each took.",
            ["provider", "method"], buckets=_LATENCY, registry=self.registry,
        )  # fmt: skip
        self.provider_errors = Counter(
            "reelbot_provider_errors", "Provider API calls answered 4xx/5xx or not answered.",
            ["provider", "status"], registry=self.registry,
        )  # fmt: skip
        self.slack_errors = Counter(
            "reelbot_slack_api_errors", "Slack Web API calls that failed, by Slack's error.",
            ["error"], registry=self.registry,
        )  # fmt: skip
        self.slack_retries = Counter(
            "reelbot_slack_api_retries", "Slack Web API calls tried again, by why.",
            ["reason"], registry=self.registry,
        )  # fmt: skip
        self.poll_lag = Histogram(
            "reelbot_poll_lag_seconds", "How late a job's turn started after it was due.",
            ["provider"], buckets=_LAG, registry=self.registry,
        )  # fmt: skip
        self.ack_seconds = Histogram(
            "reelbot_ack_seconds", "How long a Slack request waited for its answer (the ack).",
            buckets=_LATENCY, registry=self.registry,
        )  # fmt: skip
        self.queue = Gauge(
            "reelbot_queue_depth", "Jobs due now and not yet taken, per provider.",
            ["provider"], registry=self.registry,
        )  # fmt: skip

    def slack_retry(self, reason: str) -> None:
        self.slack_retries.labels(reason).inc()

    def job_saved(self, before: Job | None, after: Job) -> None:
        """Count a save that changed the job's state (or made the job)."""
        if before is None or before.state is not after.state:
            self.jobs.labels(after.provider, after.state.value).inc()

    def provider_call(self, provider: str, method: str, status: int | None, seconds: float) -> None:
        self.provider_seconds.labels(provider, method).observe(seconds)
        if status is None or status >= 400:
            self.provider_errors.labels(provider, "none" if status is None else str(status)).inc()

    def watch_providers(self) -> None:
        """Provider calls (providers/http.py `send`) are reported here from now on."""
        provider_http.observers.append(self.provider_call)

    def unwatch_providers(self) -> None:
        if self.provider_call in provider_http.observers:
            provider_http.observers.remove(self.provider_call)

    async def scrape(self) -> bytes:
        if self._queue_depth is not None:
            now = time.time()
            try:
                depths = await asyncio.gather(*(self._queue_depth(p, now) for p in self._providers))
            except Exception as exc:  # the store is down: /healthz says so; keep the rest
                log.warning("queue depth not read (%s)", type(exc).__name__)
            else:
                for provider, depth in zip(self._providers, depths, strict=True):
                    self.queue.labels(provider).set(depth)
        return bytes(generate_latest(self.registry))
