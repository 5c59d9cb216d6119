"""Reads of merges: managers read them all; nobody else reads any."""

from __future__ import annotations

from django.db.models import QuerySet

from crm_project.core.roles import is_manager

from .models import Merge


def merge_list_visible_to(user) -> QuerySet[Merge]:
    queryset = Merge.objects.select_related("merged_by", "undone_by")
    return queryset if is_manager(user) else queryset.none()
