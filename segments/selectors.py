"""Reads of segments: visibility, members, criteria matches and performance."""

from __future__ import annotations

from django.db.models import QuerySet

from crm_project.core.roles import has_crm_role

from .models import Segment


def segment_list_visible_to(user) -> QuerySet[Segment]:
    """Every CRM role reads every segment (only managers change them); no role sees none."""
    if not has_crm_role(user):
        return Segment.objects.none()
    return Segment.objects.all()
