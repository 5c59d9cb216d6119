"""
Record versions for optimistic concurrency (``ETag`` / ``If-Match``).

A record's version is derived from its primary key and ``updated_at``, which every service
write advances. Services compare the client's ``If-Match`` with the version *after* locking
the row, so two clients that read the same version cannot both write (no lost update).
"""

from __future__ import annotations

import hashlib

from .exceptions import PreconditionFailed


def etag_for(instance) -> str:
    digest = hashlib.sha256(f"{instance.pk}:{instance.updated_at.isoformat()}".encode()).hexdigest()
    return f'"{digest[:32]}"'


def _tags(header: str) -> set[str]:
    # Weak and strong forms compare equal here: the version is exact either way.
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def check_if_match(instance, if_match: str | None) -> None:
    """Raise PreconditionFailed unless ``if_match`` is absent, ``*`` or the current version."""
    if if_match is None:
        return
    tags = _tags(if_match)
    if "*" in tags or etag_for(instance) in tags:
        return
    raise PreconditionFailed()
