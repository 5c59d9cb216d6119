"""
Background tasks of the communications domain (``crm_project/core/background.py``): plain
arguments in, one service call, nothing else. Safe to run twice: each reads what it needs afresh.
"""

from __future__ import annotations

import datetime as dt

from communications import services


def email_follow_up_digest(*, user_id: int, day: str) -> None:
    """E-mail one representative their follow-ups of ``day`` (an ISO date)."""
    services.follow_up_digest_send(user_id=user_id, day=dt.date.fromisoformat(day))
