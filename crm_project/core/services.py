"""Small write helpers every domain service uses: row locks and applying validated changes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

from django.db import models

from crm_project.core.versioning import check_if_match

M = TypeVar("M", bound=models.Model)


def lock_for_update(instance: M, *, if_match: str | None = None) -> M:
    """
    Re-read ``instance`` under a row lock, then check the client's ``If-Match`` against it.

    ``no_key=True`` (FOR NO KEY UPDATE): the row's key is not changing, so rows that merely
    reference it (a communication inserted for this lead) are not blocked meanwhile.
    """
    locked = type(instance)._default_manager.select_for_update(no_key=True).get(pk=instance.pk)
    check_if_match(locked, if_match)
    return locked


def apply_changes(instance: models.Model, data: Mapping, *, allowed: Iterable[str]) -> list[str]:
    """Set the ``allowed`` keys of ``data`` on ``instance``; return the names that changed."""
    changed = []
    for name in allowed:
        if name in data and getattr(instance, name) != data[name]:
            setattr(instance, name, data[name])
            changed.append(name)
    return changed
