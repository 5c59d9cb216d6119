"""
``GET /api/v1/crm/<records>/{id}/history``: a record's changes, newest first, for whoever may
see the record. A deleted record's history stays readable by managers.
"""

from __future__ import annotations

import uuid

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound

from crm_project.core.history import history_of
from crm_project.core.models import HistoryAction, HistoryEntry
from crm_project.core.roles import is_manager

SOURCE_CHOICES = ["api", "admin", "command", "import", "task", "merge"]


class HistoryEntrySerializer(serializers.ModelSerializer):
    action = serializers.ChoiceField(choices=HistoryAction.choices, read_only=True)
    actor_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Who made the change; null: the system."
    )
    actor_name = serializers.CharField(read_only=True, help_text="Their name when they made it.")
    source = serializers.ChoiceField(choices=SOURCE_CHOICES, read_only=True, help_text="What the change came through.")
    request_id = serializers.CharField(
        read_only=True, help_text="The request's X-Request-ID (a job's id for its work)."
    )
    changes = serializers.JSONField(read_only=True, help_text='{"field": [old, new]}, as the API shows values.')

    class Meta:
        model = HistoryEntry
        fields = ["id", "at", "action", "actor_id", "actor_name", "source", "request_id", "changes"]
        read_only_fields = fields


class HistoryActionMixin:
    """The ``history`` action of a record's viewset; ``history_record_type`` names its records."""

    history_record_type: str

    @extend_schema(
        summary="History of the record (newest first)",
        description="Every change: when, who, through what (api, admin, command, import, task, merge), and what.",
        parameters=[OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The record's id.")],
        responses=HistoryEntrySerializer(many=True),
    )
    # A plain page of entries: no list filters, no ETag (it is not a record).
    @action(detail=True, methods=["get"], url_path="history", filter_backends=[], sends_etag=False)
    def history(self, request, pk=None):
        entries = history_of(record_type=self.history_record_type, record_id=self._history_record_id(pk))
        page = self.paginate_queryset(entries)
        return self.get_paginated_response(HistoryEntrySerializer(page, many=True).data)

    def _history_record_id(self, pk):
        try:
            return self.get_object().pk
        except (Http404, NotFound):
            # Gone (deleted, or merged away): a manager still reads what happened to it.
            record_id = _as_uuid(pk)
            kept = HistoryEntry.objects.filter(record_type=self.history_record_type, record_id=record_id)
            if record_id is not None and is_manager(self.request.user) and kept.exists():
                return record_id
            raise


def _as_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
