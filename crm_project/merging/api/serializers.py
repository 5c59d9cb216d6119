"""Merge shapes: the request of a merge, and the merge record as it is read back."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from crm_project.merging.models import Merge, MergeKind
from crm_project.merging.services import MAX_DUPLICATES, undo_deadline


class MergeRequestSerializer(serializers.Serializer):
    duplicate_ids = serializers.ListField(
        child=serializers.UUIDField(),
        allow_empty=False,
        min_length=1,
        max_length=MAX_DUPLICATES,
        help_text="The records to merge into this one; they are gone afterwards (404 naming this one).",
    )
    fields = serializers.DictField(
        child=serializers.UUIDField(),
        required=False,
        help_text='{"phone": "<id of the record to take it from>", ...}; the survivor keeps its own values otherwise.',
    )


class MergeSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=MergeKind.choices, read_only=True)
    duplicate_ids = serializers.ListField(child=serializers.UUIDField(), read_only=True)
    fields = serializers.DictField(
        child=serializers.UUIDField(), read_only=True, help_text="Each field the survivor took, and from which record."
    )
    survivor_before = serializers.DictField(read_only=True, help_text="The taken fields' values before the merge.")
    survivor_after = serializers.DictField(read_only=True, help_text="Their values after it.")
    moved_counts = serializers.SerializerMethodField(help_text="How many records of each kind moved.")
    merged_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    undone_by_id = serializers.IntegerField(read_only=True, allow_null=True)
    undo_until = serializers.SerializerMethodField(help_text="Until when the merge can be undone.")

    class Meta:
        model = Merge
        fields = [
            "id",
            "kind",
            "survivor_id",
            "duplicate_ids",
            "fields",
            "survivor_before",
            "survivor_after",
            "moved_counts",
            "merged_by_id",
            "merged_at",
            "undo_until",
            "undone_at",
            "undone_by_id",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=serializers.IntegerField()))
    def get_moved_counts(self, merge) -> dict:
        return merge.moved_counts()

    @extend_schema_field(serializers.DateTimeField())
    def get_undo_until(self, merge):
        return serializers.DateTimeField().to_representation(undo_deadline(merge))


class MergeDetailSerializer(MergeSerializer):
    moved = serializers.SerializerMethodField(
        help_text="The ids of what moved, by kind and by the record it came from."
    )

    class Meta(MergeSerializer.Meta):
        fields = [*MergeSerializer.Meta.fields, "moved"]
        read_only_fields = fields

    @extend_schema_field(serializers.DictField(child=serializers.DictField()))
    def get_moved(self, merge) -> dict:
        return merge.moved
