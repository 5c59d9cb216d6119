"""
The communications domain's background job: one representative's follow-up digest e-mail
(``follow_up_digest``). Registered when the app is ready (``apps.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from communications.services import follow_up_digest_send
from crm_project.core.jobs.registry import JobKind, register
from crm_project.core.jobs.runner import JobRun


def run_follow_up_digest(run: JobRun) -> dict[str, Any]:
    day = dt.date.fromisoformat(run.params["day"])
    return {"sent": follow_up_digest_send(user_id=run.params["user_id"], day=day)}


def register_jobs() -> None:
    register(JobKind(name="follow_up_digest", label="Follow-up digest e-mail", run=run_follow_up_digest))
