from __future__ import annotations

import pytest

from bot.jobs import (
    END,
    ROOT,
    Delivery,
    DeliveryState,
    InvalidTransition,
    Job,
    JobState,
    output_key,
)
from providers.base import Clip, ErrorKind, File, Video
from tests.factories import make_job


def _job() -> Job:
    return make_job(next_run_at=1.0)


def test_a_job_walks_queued_to_done() -> None:
    job = (
        _job()
        .moved(JobState.SUBMITTING)
        .moved(JobState.SUBMITTED)
        .moved(JobState.RENDERING)
        .moved(JobState.RENDERING)
    )
    done = job.moved(JobState.DONE, outputs=[Clip(url="https://x/1.mp4")])
    assert done.terminal
    assert done.finished_at is not None
    assert done.unposted == [0]


@pytest.mark.parametrize("state", [JobState.DONE, JobState.FAILED, JobState.CANCELLED])
def test_a_finished_job_never_moves_again(state: JobState) -> None:
    job = _job()
    if state is JobState.DONE:
        job = job.moved(JobState.SUBMITTING).moved(JobState.SUBMITTED)
    finished = job.moved(state)
    for target in JobState:
        with pytest.raises(InvalidTransition):
            finished.moved(target)


def test_a_queued_job_cannot_skip_the_create_in_flight() -> None:
    for target in (JobState.SUBMITTED, JobState.RENDERING, JobState.DONE):
        with pytest.raises(InvalidTransition):
            _job().moved(target)


def test_a_create_in_flight_goes_back_to_the_queue_only_from_submitting() -> None:
    sending = _job().moved(JobState.SUBMITTING)
    assert sending.state.at_provider
    assert sending.moved(JobState.QUEUED).state is JobState.QUEUED
    with pytest.raises(InvalidTransition):
        sending.moved(JobState.SUBMITTED).moved(JobState.QUEUED)


def test_a_priced_job_waits_for_its_confirmation() -> None:
    waiting = make_job(state=JobState.AWAITING_CONFIRMATION)
    assert not waiting.state.at_provider
    with pytest.raises(InvalidTransition):
        waiting.moved(JobState.SUBMITTING)
    assert waiting.moved(JobState.QUEUED).state is JobState.QUEUED
    assert waiting.moved(JobState.CANCELLED).terminal


def test_unposted_follows_each_outputs_delivery_record() -> None:
    outputs = [Clip(url=f"https://x/{n}.mp4") for n in range(3)]
    posted = Delivery(state=DeliveryState.POSTED, channel="C1", reserved_at=1.0, ts="1.1")
    reserved = Delivery(state=DeliveryState.RESERVED, channel="C1", reserved_at=1.0)
    job = _job().changed(
        outputs=outputs, deliveries={output_key(0): posted, output_key(2): reserved}
    )
    assert job.unposted == [1, 2], "a reservation is not a post"
    assert job.delivered(output_key(2), None).deliveries.keys() == {output_key(0)}


def test_the_root_delivery_names_where_results_go() -> None:
    root = Delivery(state=DeliveryState.POSTED, channel="C1", reserved_at=1.0, ts="5.5")
    job = _job().delivered(ROOT, root)
    assert (job.root_channel, job.root_ts, job.reply_thread) == ("C1", "5.5", "5.5")
    in_thread = job.changed(thread_ts="4.4")
    assert in_thread.reply_thread == "4.4", "a shortcut's thread, when the root is in it"
    in_dm = in_thread.delivered(ROOT, root.model_copy(update={"channel": "D1"}))
    assert in_dm.reply_thread == "5.5"


def test_outputs_of_every_type_and_the_error_kind_survive_json() -> None:
    job = _job().changed(
        outputs=[
            Clip(url="https://x/1.mp4", topics=("a",)),
            Video(url="https://x/v.mp4", thumbnail_url="https://x/v.jpg", duration_s=3.0),
            File(name="a.vtt", media_type="text/vtt", text="WEBVTT", expires_at=9.0),
        ],
        error_kind=ErrorKind.CREATE_LOST,
        quoted_cents=300,
        charged_cents=450,
    )
    again = Job.model_validate_json(job.model_dump_json())
    assert again == job
    assert [type(o) for o in again.outputs] == [Clip, Video, File]
    assert again.error_kind is ErrorKind.CREATE_LOST


def test_a_job_stored_by_the_first_release_reads_as_todays() -> None:
    old = {
        "id": "a" * 32,
        "kind": "clips",
        "provider": "vizard",
        "state": "done",
        "channel_id": "C1",
        "user_id": "U1",
        "source": "https://x/a.mp4",
        "request": {},
        "root_channel": "C1",
        "root_ts": "5.5",
        "posted": 1,
        "retries": 2,
        "error_kind": "error",
        "outputs": [{"url": "https://x/1.mp4", "text": "said"}, {"url": "https://x/2.mp4"}],
    }
    job = Job.model_validate(old)
    assert (job.root_channel, job.root_ts) == ("C1", "5.5")
    assert job.unposted == [1], "the clip 0.1 counted is never posted again"
    assert isinstance(job.outputs[0], Clip) and job.outputs[0].transcript == "said"
    assert job.provider_retries == 2
    assert job.error_kind is ErrorKind.FAILED


def test_a_job_without_results_is_settled_once_its_end_reply_is_posted() -> None:
    root = Delivery(state=DeliveryState.POSTED, channel="C1", reserved_at=1.0, ts="1.0")
    failed = make_job().moved(JobState.FAILED, error="no").delivered(ROOT, root)
    assert failed.owes_end and not failed.settled
    end = Delivery(state=DeliveryState.RESERVED, channel="C1", reserved_at=1.0, thread_ts="1.0")
    assert not failed.delivered(END, end).settled, "reserved is not posted"
    posted = end.model_copy(update={"state": DeliveryState.POSTED, "ts": "2.0"})
    assert failed.delivered(END, posted).settled
    cancelled = make_job().moved(JobState.CANCELLED).delivered(ROOT, root)
    assert not cancelled.owes_end and cancelled.settled, "the requester cancelled it"
