"""The words and commands of each job kind (clips, avatar videos, descriptions): generic over
providers, so a new provider of a kind needs nothing here."""

from __future__ import annotations

from dataclasses import dataclass

from providers.base import JobKind


@dataclass(frozen=True)
class KindWords:
    command: str
    # "clips", as in "asked <provider> for clips of ..." and "The clips arrive as replies ..."
    noun: str
    modal_title: str
    modal_submit: str
    # "is making the clips", after the provider's name
    working: str
    # One result, and many ("clip", "clips")
    one: str
    many: str
    # The root message's first line, after "<@user> asked <provider> for ": {what} is the
    # job's title in bold or "a video", {titled} the title after a space or nothing, {source}
    # where it came from (all escaped).
    asked: str
    # Where results come from, when the provider found none ("in this video")
    empty: str
    # A message shortcut's callback_id and name, when the kind has one.
    shortcut: str | None = None


KINDS: dict[JobKind, KindWords] = {
    JobKind.CLIPS: KindWords(
        command="/clip",
        noun="clips",
        modal_title="Clip a video",
        modal_submit="Make clips",
        working="is making the clips",
        one="clip",
        many="clips",
        asked="clips of {what}: {source}",
        empty="found no clips in this video",
        shortcut="clip_video",
    ),
    JobKind.AVATAR: KindWords(
        command="/avatar",
        noun="avatar video",
        modal_title="Make an avatar video",
        modal_submit="Make the video",
        working="is rendering the video",
        one="video",
        many="videos",
        asked="an avatar video{titled} of this script: {source}",
        empty="made no video from this script",
        shortcut="make_avatar_video",
    ),
    JobKind.DESCRIPTION: KindWords(
        command="/describe",
        noun="audio description",
        modal_title="Describe a video",
        modal_submit="Describe it",
        working="is describing the video",
        one="file",
        many="files",
        asked="an audio description of {what}: {source}",
        empty="made no description of this video",
        shortcut="describe_video",
    ),
}


def kind_of_command(command: str) -> JobKind | None:
    return next((kind for kind, words in KINDS.items() if words.command == command), None)


def results(kind: JobKind, count: int) -> str:
    words = KINDS[kind]
    return f"{count} {words.one if count == 1 else words.many}"
