from __future__ import annotations

import pytest

from bot.jobs import InvalidTransition, Job, JobState
from providers.base import Output
from tests.factories import make_job


def _job() -> Job:
    return make_job(next_run_at=1.0)


def test_a_job_walks_queued_to_done() -> None:
    job = _job().moved(JobState.SUBMITTED).moved(JobState.RENDERING).moved(JobState.RENDERING)
    done = job.moved(JobState.DONE, outputs=[Output(url="https://x/1.mp4")])
    assert done.terminal
    assert done.next_run_at is None
    assert done.finished_at is not None
    assert [o.url for o in done.unposted] == ["https://x/1.mp4"]


@pytest.mark.parametrize("state", [JobState.DONE, JobState.FAILED, JobState.CANCELLED])
def test_a_finished_job_never_moves_again(state: JobState) -> None:
    finished = (
        _job().moved(state)
        if state is not JobState.DONE
        else _job().moved(JobState.SUBMITTED).moved(JobState.DONE)
    )
    for target in JobState:
        with pytest.raises(InvalidTransition):
            finished.moved(target)


def test_a_queued_job_cannot_skip_to_done_or_rendering() -> None:
    with pytest.raises(InvalidTransition):
        _job().moved(JobState.DONE)
    with pytest.raises(InvalidTransition):
        _job().moved(JobState.RENDERING)


def test_unposted_follows_the_posted_counter() -> None:
    outputs = [Output(url=f"https://x/{n}.mp4") for n in range(3)]
    job = _job().changed(outputs=outputs, posted=2)
    assert [o.url for o in job.unposted] == ["https://x/2.mp4"]
