"""The kinds of job, each registered once by the app that owns it (from its ``apps.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class JobKind:
    name: str
    label: str
    # Does the work, given a ``runner.JobRun``; returns the job's ``result`` (or finishes the job
    # itself, see ``JobRun.completing``).
    run: Callable[[Any], dict[str, Any] | None]
    # Its output is a file to download (an export).
    produces_file: bool = False
    # Tried again after a failure (with a growing wait) up to this many attempts in all.
    max_attempts: int = 3
    # What the history records as the source of the changes it makes ("import" or "task").
    history_source: str = "task"


_KINDS: dict[str, JobKind] = {}


def register(kind: JobKind) -> None:
    if kind.name in _KINDS and _KINDS[kind.name] != kind:
        raise ValueError(f"Job kind {kind.name!r} is registered twice.")
    _KINDS[kind.name] = kind


def kind_of(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise LookupError(f"No job kind {name!r} is registered.") from None


def registered_kinds() -> dict[str, JobKind]:
    return dict(_KINDS)
