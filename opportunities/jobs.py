"""The opportunities domain's background jobs: the list's CSV export. Registered when the app is ready (``apps.py``)."""

from __future__ import annotations

from crm_project.core.exports import export_job_kind
from crm_project.core.jobs.registry import register
from opportunities.exports import OPPORTUNITY_EXPORT


def register_jobs() -> None:
    register(export_job_kind(OPPORTUNITY_EXPORT))
