"""
Writes of leads. Invariants guarded here:

- (filled in by the leads issue)
"""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone

from .models import Lead, LeadStatus


def lead_record_contact(*, lead_id, contacted_at) -> None:
    """
    A communication about the lead was logged: move ``last_contacted_at`` forward (never
    back), and a lead still ``new`` becomes ``contacted`` (contract, beyond the seed).
    """
    # Two conditional UPDATEs, each atomic on its own, so concurrent loggers cannot undo
    # each other: the timestamp only moves forward, and only a new lead changes status.
    Lead.objects.filter(pk=lead_id).filter(
        Q(last_contacted_at__isnull=True) | Q(last_contacted_at__lt=contacted_at)
    ).update(last_contacted_at=contacted_at, updated_at=timezone.now())
    Lead.objects.filter(pk=lead_id, status=LeadStatus.NEW).update(
        status=LeadStatus.CONTACTED, updated_at=timezone.now()
    )
