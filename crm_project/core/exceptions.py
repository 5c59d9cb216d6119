"""
Domain exceptions raised by services, understood by the API, the admin and the commands.

Invalid input is ``django.core.exceptions.ValidationError`` (400, naming the field) and a
forbidden action is ``django.core.exceptions.PermissionDenied`` (403); this module adds the
outcomes Django has no exception for.
"""

from __future__ import annotations

from django.db.models import ProtectedError, RestrictedError


class DomainError(Exception):
    """Base class: ``message`` is safe to show to the user as is."""

    default_message = "The request cannot be carried out."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class Conflict(DomainError):
    """The record's current state forbids the action (HTTP 409). Nothing was changed."""

    default_message = "The record's current state does not allow this action."


class PreconditionFailed(DomainError):
    """The client's ``If-Match`` no longer matches the record (HTTP 412). Nothing was changed."""

    default_message = "The record has changed since you read it; fetch it again and retry."


def deletion_refused(
    exc: ProtectedError | RestrictedError, *, name: str = "this record", instead: str = ""
) -> Conflict:
    """
    The 409 for a delete that other records' protected foreign keys refused:
    ``Cannot delete LEAD-…: communications refer to it. Mark the lead lost instead.``
    """
    related = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
    referrers = ", ".join(sorted({str(obj._meta.verbose_name_plural) for obj in related}))
    return Conflict(f"Cannot delete {name}: {referrers} refer to it. {instead}".rstrip())
