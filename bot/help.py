"""`<command> help`: every option of every provider offered, from their forms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.values import choices_help
from providers.forms import FieldType, Form, FormField


class HasForm(Protocol):
    """A provider (or its plugin) as help text needs it."""

    @property
    def name(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def form(self) -> Form: ...


def help_text(
    command: str,
    noun: str,
    offers: Sequence[HasForm],
    unconfigured: Sequence[tuple[str, str]] = (),
) -> str:
    """Every option of every provider offered, and what an admin must set for the others.

    `unconfigured` pairs a provider's label with the variable that would enable it.
    """
    lines: list[str] = []
    for label, variable in unconfigured:
        lines.append(
            f":warning: {label} is not set up here yet: a workspace admin must set {variable}."
        )
    if len(offers) > 1:
        names = ", ".join(f"`{o.name}`" for o in offers)
        lines.append(f"Choose a provider with `provider=` ({names}; default `{offers[0].name}`).")
    for offer in offers:
        lines.extend(_form_help(command, offer))
    lines.append(
        f"The {noun} arrive as replies in the thread of the message I post; "
        "the Cancel button there stops tracking."
    )
    return "\n".join(lines)


def _form_help(command: str, offer: HasForm) -> list[str]:
    form = offer.form
    subject = form.subject_field.label.lower()
    if form.subject_field.type is FieldType.TEXT:
        usage = f"`{command} [options] <{subject}>` submits it; `{command}` alone opens a form."
        where = "Options, each `key=value` before the text:"
    else:
        usage = f"`{command} <{subject}> [options]` submits it; `{command}` alone opens a form."
        where = "Options, each `key=value` after it:"
    lines = [f"*{form.summary}*", usage, where]
    for spec in form.options:
        lines.append(f"• {_option_help(spec)}")
    lines.extend(form.notes)
    lines.append(f"Example: `{command} {form.example}`")
    return lines


def _option_help(spec: FormField) -> str:
    match spec.type:
        case FieldType.SWITCH:
            default = " (default on)" if spec.default else " (default off)"
            return f"`{spec.name}=on|off` {spec.help}{default}"
        case FieldType.CHOICE | FieldType.CHOICES:
            default = spec.default
            if isinstance(default, tuple | list):
                default = ",".join(default)
            shown = f" (default `{default}`)" if default not in (None, "") else ""
            return f"`{spec.name}=` {spec.help}: {choices_help(spec)}{shown}"
        case FieldType.INTEGER:
            span = f" ({spec.minimum}–{spec.maximum})" if spec.maximum is not None else ""  # noqa: RUF001
            return f"`{spec.name}=` {spec.help}{span}"
        case FieldType.LOOKUP:
            default = f" (default `{spec.default}`)" if spec.default else ""
            return f"`{spec.name}=<id>` {spec.help}{default}; the form lets you search"
        case _:
            return f"`{spec.name}=` {spec.help}"
