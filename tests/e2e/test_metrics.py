"""GET /metrics during an end-to-end job (Prometheus' text format, read with its own parser):
the job is counted once per state it went through, provider calls and their errors are
timed, and the queue depth, poll lag and ack latency are there."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.jobs import JobState
from tests.e2e.conftest import ALICE, CHANNEL, Stack, StackFactory


async def _scrape(stack: Stack) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"http://127.0.0.1:{stack.runtime.port}/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def _jobs(scraped: dict[tuple[str, tuple[tuple[str, str], ...]], float]) -> dict[str, float]:
    return {
        dict(labels)["state"]: value
        for (name, labels), value in scraped.items()
        if name == "reelbot_jobs_total" and dict(labels)["provider"] == "vizard"
    }


async def test_a_job_is_counted_once_by_state_and_the_calls_are_timed(
    make_stack: StackFactory,
) -> None:
    stack = await make_stack()
    stack.vizard.inject("query", "http500", times=1)
    answer = await stack.slack.slash_command(
        "/clip", "https://v.example.com/talk.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    assert answer.status_code == 200
    [job] = await stack.wait_until_delivered()
    assert job.state is JobState.DONE
    scraped = await _scrape(stack)
    counted = _jobs(scraped)
    assert counted.get("queued") == 1 and counted.get("done") == 1, counted
    assert counted.get("submitting") == 1 and counted.get("submitted") == 1, counted
    assert all(value == 1 for value in counted.values()), "each state once"
    polls = scraped[
        ("reelbot_provider_request_seconds_count", (("method", "GET"), ("provider", "Vizard")))
    ]
    assert polls >= 2, "the 500 and the polls after it"
    assert (
        scraped[("reelbot_provider_errors_total", (("provider", "Vizard"), ("status", "500")))] >= 1
    )
    assert scraped[("reelbot_ack_seconds_count", ())] >= 1
    assert scraped[("reelbot_poll_lag_seconds_count", (("provider", "vizard"),))] >= 1
    assert scraped[("reelbot_queue_depth", (("provider", "vizard"),))] == 0
    again = _jobs(await _scrape(stack))
    assert again == counted, "a scrape counts nothing itself"


async def test_slack_retries_are_counted_by_why(make_stack: StackFactory) -> None:
    """Slack's 429 (with Retry-After) on the status message's post: slack_sdk's handler waits
    and tries again, and /metrics counts the retry; the job is done as usual."""
    stack = await make_stack()
    stack.sandbox.fail_next("chat.postMessage", retry_after=1, times=2)
    answer = await stack.slack.slash_command(
        "/clip", "https://v.example.com/talk.mp4", user_id=ALICE, channel_id=CHANNEL
    )
    assert answer.status_code == 200
    [job] = await stack.wait_until_delivered()
    assert job.state is JobState.DONE
    scraped = await _scrape(stack)
    assert scraped[("reelbot_slack_api_retries_total", (("reason", "rate_limited"),))] == 2
