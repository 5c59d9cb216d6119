"""
The segments domain's background job: the nightly refresh of the segments marked
``auto_refresh`` (``segment_refresh``). Registered when the app is ready (``apps.py``).
"""

from __future__ import annotations

from typing import Any

from crm_project.core.exceptions import Conflict
from crm_project.core.jobs.registry import JobKind, register
from crm_project.core.jobs.runner import JobRun
from segments.services import segment_apply_criteria, segments_due_for_refresh


def run_segment_refresh(run: JobRun) -> dict[str, Any]:
    """
    Apply each auto-refreshed segment's criteria, each in its own transaction: a rerun after a
    failure adds only what is still missing (membership is unique), so it is safe to repeat.
    """
    segments = list(segments_due_for_refresh())
    run.progress(0, len(segments))
    added, skipped = 0, []
    for done, segment in enumerate(segments, start=1):
        try:
            added += segment_apply_criteria(actor=run.actor, segment=segment).assigned
        except Conflict:
            skipped.append(segment.code)  # No criterion the CRM can evaluate: nothing to apply.
        run.progress(done, len(segments))
    return {"segments": len(segments), "customers_added": added, "skipped": skipped}


def register_jobs() -> None:
    register(JobKind(name="segment_refresh", label="Nightly segment refresh", run=run_segment_refresh))
