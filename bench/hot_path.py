"""The pure per-request work (no I/O): command parsing, Block Kit building, Job JSON.

Each case runs in batches sized to about 10 ms (at most 100,000 calls), 9 repeats, with the
garbage collector off as timeit does. Every repeat also times a trivial baseline right next
to it, json.dumps of the 10-clip job's dict, swapping which goes first, so the ratio to the
baseline (median of those pairs) still means something when the shared machine is noisy.
Then tracemalloc measures the peak memory of building 1,000 jobs with 10 outputs each, next
to the size of the same jobs as JSON.

Exit 1 if a case does not produce what the bot relies on (a Submit, a lossless round trip).
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot import blocks
from bot.jobs import ROOT, Delivery, DeliveryState, Job, JobState, output_key
from bot.parse import Submit, parse_command
from providers.base import Clip, JobKind, dump_request
from providers.vizard import VizardProvider, VizardRequest

HEADER = """\
== hot_path: pure per-request work, µs per call and x the json.dumps baseline, same run ==
Cases: parse_command on a typical /clip command; blocks.root_message and blocks.result_reply
(per clip) for a finished 10-clip job; the Job's model_dump_json, model_validate_json and the
round trip. µs/call is the median (best) over 9 repeats; "x baseline" is the median ratio to
json.dumps of the same job's dict timed beside it, the figure to compare across machines.
Memory: tracemalloc peak while building 1,000 such jobs, and its ratio to their JSON size."""

COMMAND = (
    "<https://videos.example.com/talks/q3-all-hands.mp4> lang=en length=1,2 "
    'subtitles=off name="Q3 all-hands"'
)
REPEATS = 9
BATCH_SECONDS = 0.01
MAX_BATCH = 100_000
CLIPS = 10
MEMORY_JOBS = 1000
LABEL = "Vizard"

TRANSCRIPT = (
    "So the thing nobody tells you about shipping video features is that the hard part is "
    "not the encoder, it's the waiting: people hit a button and then stare at a spinner, and "
    "every second of that spinner is a second they are deciding whether to trust you again. "
    "What we did in Q3 was move every long job into the thread, post the result when it "
    "lands, and let people get on with their day."
)


OFFERS = {"vizard": VizardProvider("bench-key")}


def parse_clip_text(text: str) -> object:
    return parse_command(text, OFFERS, "vizard")


def make_output(job_n: int, n: int, now: float) -> Clip:
    return Clip(
        url=f"https://cdn.example.com/clips/{job_n:05d}/{n:02d}.mp4?sig=abcdef0123456789",
        title=f"Why the spinner costs you trust, part {n + 1}",
        duration_s=30.0 + n * 3.5,
        score=9.7 - n * 0.3,
        reason="A strong hook in the first three seconds and a clear, quotable takeaway.",
        transcript=TRANSCRIPT,
        topics=("product", "video", "latency", "trust"),
        expires_at=now + 7 * 86400,
        thumbnail_url=f"https://cdn.example.com/thumbs/{job_n:05d}/{n:02d}.jpg",
        editor_url=f"https://vizard.example.com/editor/{job_n:05d}/{n:02d}",
    )


def make_done_job(job_n: int, now: float) -> Job:
    """A /clip job as it stands when Vizard has finished: 10 clips, all posted."""
    url = f"https://videos.example.com/talks/{job_n:05d}/q3-all-hands.mp4"
    request = VizardRequest(
        video_url=url,
        video_type=1,
        ext="mp4",
        lang="en",
        prefer_length=[1, 2],
        project_name="Q3 all-hands",
        subtitle_switch=0,
    )
    outputs = [make_output(job_n, n, now) for n in range(CLIPS)]
    return Job(
        kind=JobKind.CLIPS,
        provider="vizard",
        state=JobState.DONE,
        version=7,
        team_id="T0BENCH",
        channel_id="C0BENCH",
        user_id="U0BENCH",
        source=url,
        title="Q3 all-hands",
        request=dump_request(request),
        provider_ref=f"{9_000_000 + job_n}",
        created_at=now - 900.0,
        updated_at=now,
        submitted_at=now - 890.0,
        finished_at=now,
        polls=12,
        percent=100.0,
        outputs=outputs,
        deliveries=_delivered(now),
        rendered="done",
    )


def _delivered(now: float) -> dict[str, Delivery]:
    """Every message of a finished 10-clip job, posted."""
    root = Delivery(state=DeliveryState.POSTED, channel="C0BENCH", reserved_at=now, ts=f"{now:.6f}")
    posted = {ROOT: root}
    for n in range(CLIPS):
        posted[output_key(n)] = root.model_copy(
            update={"thread_ts": root.ts, "ts": f"{now + n + 1:.6f}"}
        )
    return posted


@dataclass
class Case:
    name: str
    call: Callable[[], object]
    units: int = 1  # calls of the named function per call of `call`


@dataclass
class Timing:
    median_us: float
    best_us: float
    ratio: float


def _batch_seconds(call: Callable[[], object], count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        call()
    return time.perf_counter() - started


def _batch_size(call: Callable[[], object]) -> int:
    """Calls per batch for about BATCH_SECONDS, doubling from 1 (bounded by MAX_BATCH)."""
    count = 1
    while count < MAX_BATCH:
        if _batch_seconds(call, count) >= BATCH_SECONDS:
            break
        count *= 2
    return min(count, MAX_BATCH)


def measure(case: Case, baseline: Callable[[], object]) -> tuple[Timing, float]:
    """(the case's timing, the baseline's median µs/call), timed in alternating pairs."""
    case_n = _batch_size(case.call)
    base_n = _batch_size(baseline)
    case_us: list[float] = []
    base_us: list[float] = []
    ratios: list[float] = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for repeat in range(REPEATS):
            if repeat % 2 == 0:
                base = _batch_seconds(baseline, base_n) / base_n
                this = _batch_seconds(case.call, case_n) / (case_n * case.units)
            else:
                this = _batch_seconds(case.call, case_n) / (case_n * case.units)
                base = _batch_seconds(baseline, base_n) / base_n
            case_us.append(this * 1e6)
            base_us.append(base * 1e6)
            ratios.append(this / base)
    finally:
        if enabled:
            gc.enable()
    timing = Timing(statistics.median(case_us), min(case_us), statistics.median(ratios))
    return timing, statistics.median(base_us)


def memory_of_jobs(now: float) -> tuple[int, int, int]:
    """(peak bytes, bytes still held, JSON bytes) for MEMORY_JOBS finished 10-clip jobs."""
    gc.collect()
    tracemalloc.start()
    try:
        jobs = [make_done_job(n, now) for n in range(MEMORY_JOBS)]
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    json_bytes = sum(len(job.model_dump_json().encode()) for job in jobs)
    return peak, current, json_bytes


def check(now: float) -> list[str]:
    """What the timed cases must produce; anything else makes the figures meaningless."""
    problems: list[str] = []
    job = make_done_job(0, now)
    parsed = parse_clip_text(COMMAND)
    if not isinstance(parsed, Submit):
        problems.append(f"parse_command gave {parsed!r}, not a Submit")
    if Job.model_validate_json(job.model_dump_json()) != job:
        problems.append("the Job JSON round trip is not lossless")
    _, root_blocks = blocks.root_message(job, LABEL)
    if len(root_blocks) != 3:  # a finished job has no Cancel button
        problems.append(f"root_message gave {len(root_blocks)} blocks, expected 3")
    for n, clip in enumerate(job.outputs, start=1):
        _, reply = blocks.result_reply(n, CLIPS, clip)
        # The clip's text and link, the editor link, and the thumbnail as an image block.
        expected = 2 + bool(isinstance(clip, Clip) and clip.editor_url)
        expected += bool(getattr(clip, "thumbnail_url", None))
        if len(reply) != expected:
            problems.append(f"clip_reply {n} gave {len(reply)} blocks, expected {expected}")
    return problems


def main() -> int:
    print(HEADER)
    started = time.perf_counter()
    now = time.time()
    problems = check(now)

    job = make_done_job(0, now)
    job_dict: dict[str, Any] = job.model_dump(mode="json")
    job_json = job.model_dump_json()
    outputs = job.outputs

    def clip_replies() -> None:
        for n, clip in enumerate(outputs, start=1):
            blocks.result_reply(n, CLIPS, clip)

    def round_trip() -> Job:
        return Job.model_validate_json(job.model_dump_json())

    def baseline() -> str:
        return json.dumps(job_dict)

    cases = [
        Case("parse_command (/clip)", lambda: parse_clip_text(COMMAND)),
        Case("root_message (10-clip job)", lambda: blocks.root_message(job, LABEL)),
        Case("result_reply (per clip of 10)", clip_replies, units=CLIPS),
        Case("Job.model_dump_json", job.model_dump_json),
        Case("Job.model_validate_json", lambda: Job.model_validate_json(job_json)),
        Case("Job JSON round trip", round_trip),
    ]
    print(f"\ncommand: {COMMAND}")
    print(f"job: {CLIPS} clips, {len(job_json):,} bytes of JSON\n")
    print(f"{'case':<30}{'µs/call median':>16}{'(best)':>10}{'x baseline':>12}")
    base_medians: list[float] = []
    for case in cases:
        timing, base_us = measure(case, baseline)
        base_medians.append(base_us)
        print(
            f"{case.name:<30}{timing.median_us:>16.1f}{f'({timing.best_us:.1f})':>10}"
            f"{timing.ratio:>11.2f}x"
        )
    print(
        f"{'baseline: json.dumps(job dict)':<30}{statistics.median(base_medians):>16.1f}"
        f"{'':>10}{1.0:>11.2f}x"
    )

    peak, held, json_bytes = memory_of_jobs(now)
    mib = 1024 * 1024
    print(
        f"\nmemory, {MEMORY_JOBS:,} jobs x {CLIPS} outputs: peak {peak / mib:.1f} MiB, "
        f"held {held / mib:.1f} MiB ({held / MEMORY_JOBS / 1024:.1f} KiB/job); as JSON "
        f"{json_bytes / mib:.1f} MiB, so objects take {held / json_bytes:.1f}x their JSON"
    )
    if problems:
        print("FAILED: " + "; ".join(problems))
        return 1
    print("verify: OK (parse gives a Submit, the JSON round trip is lossless)")
    print(f"hot_path took {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
