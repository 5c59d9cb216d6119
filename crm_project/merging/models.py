"""A merge of duplicate customers or leads, kept so that it can be read and undone."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class ExactJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, but times keep their microseconds: an undo restores them exactly."""

    def default(self, o):
        if isinstance(o, dt.datetime):
            return o.isoformat()
        return super().default(o)


class MergeKind(models.TextChoices):
    CUSTOMER = "customer", "Customers"
    LEAD = "lead", "Leads"


class Merge(models.Model):
    """
    One merge: the survivor, the duplicates as they were (each row's every field, so that an
    undo brings them back with their ids and values), the fields the survivor took and its
    values before and after, and the id of every row moved (by the record it came from), so
    that an undo moves exactly those back.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=MergeKind.choices)
    survivor_id = models.UUIDField()
    duplicate_ids = models.JSONField(default=list)
    # {"phone": "<id of the record it was taken from>"}, under the API's field names.
    fields = models.JSONField(default=dict, blank=True)
    # The survivor's values of those fields before and after the merge, as the API shows them.
    survivor_before = models.JSONField(default=dict, blank=True, encoder=ExactJSONEncoder)
    survivor_after = models.JSONField(default=dict, blank=True, encoder=ExactJSONEncoder)
    # The duplicates' rows as Django's serializer writes them ({"model", "pk", "fields"}).
    duplicates = models.JSONField(default=list, encoder=ExactJSONEncoder)
    # {"opportunities": {"<duplicate id>": ["<row id>", ...]}, "communications": ..., "history": ...}
    moved = models.JSONField(default=dict, encoder=ExactJSONEncoder)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField(default=timezone.now)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-merged_at", "-id"]
        indexes = [
            models.Index(fields=["-merged_at", "-id"], name="merge_merged_at_idx"),
            models.Index(fields=["kind", "-merged_at"], name="merge_kind_idx"),
            models.Index(fields=["survivor_id"], name="merge_survivor_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=["customer", "lead"]), name="merge_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} merge into {self.survivor_id} ({self.merged_at:%Y-%m-%d %H:%M})"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None

    def moved_counts(self) -> dict[str, int]:
        counts = {}
        for name, moves in self.moved.items():
            if name == "memberships":
                counts[name] = len(moves.get("moved", [])) + len(moves.get("dropped", []))
            else:
                counts[name] = sum(len(ids) for ids in moves.values())
        return counts
