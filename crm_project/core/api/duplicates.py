"""
``GET /api/v1/crm/<records>/{id}/duplicates`` and ``POST /api/v1/crm/<records>/check-duplicates``:
a record's likely duplicates among those the user may see, scored and explained, best first.
The viewset names its selector (``find_duplicates``) and its candidate shape.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from crm_project.core.matching import WEIGHTS, MatchProbe

from .serializers import StrictSerializer

REASONS = list(WEIGHTS)
DESCRIPTION = (
    "Candidates among the records you may see, best first (at most 20). Reasons: `same_email`, `same_phone` "
    "(the last 10 digits), `same_email_domain` (free-mail providers such as gmail.com are no reason), "
    "`similar_company_name` (trigram similarity ≥ 0.5 after dropping case, punctuation and legal suffixes such "
    "as Ltd, Pvt, LLC, GmbH, Inc), `similar_contact_name` (only beside another reason). The score (0–1) "
    "combines the reasons: each leaves a chance that the records differ, and those chances multiply."
)


class DuplicateCandidateSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    score = serializers.FloatField(read_only=True, min_value=0, max_value=1, help_text="0–1; higher is likelier.")
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=REASONS), read_only=True, help_text="Why it is a candidate."
    )
    company_name = serializers.CharField(read_only=True)
    contact_person = serializers.CharField(read_only=True)
    email = serializers.CharField(read_only=True)
    phone = serializers.CharField(read_only=True)


class DuplicateCheckSerializer(StrictSerializer):
    """A record's body before it is created: what its duplicates are looked up by (other fields are ignored)."""

    company_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    contact_person = serializers.CharField(required=False, allow_blank=True, max_length=200)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=50)

    def validate(self, attrs):
        if not any((attrs.get(name) or "").strip() for name in ("company_name", "email", "phone")):
            raise serializers.ValidationError(
                "Send at least one of company_name, email or phone to look for duplicates by."
            )
        return attrs


class DuplicatesActionMixin:
    """
    The ``duplicates`` and ``check_duplicates`` actions of a record's viewset. It implements
    ``find_duplicates(probe, exclude_pk)`` with its selector, names its candidate shape (with the
    record's number) in ``duplicate_serializer_class``, and documents it as both actions'
    response in its ``extend_schema_view``.
    """

    duplicate_serializer_class: type[DuplicateCandidateSerializer]

    def find_duplicates(self, probe: MatchProbe, exclude_pk=None) -> list[dict[str, Any]]:
        raise NotImplementedError

    @extend_schema(
        summary="Likely duplicates of the record, best first",
        description=DESCRIPTION,
        parameters=[OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The record's id.")],
    )
    # A plain list, not a page (at most 20); no list filters, no ETag (it is not the record).
    @action(
        detail=True, methods=["get"], url_path="duplicates", filter_backends=[], pagination_class=None, sends_etag=False
    )
    def duplicates(self, request, pk=None):
        record = self.get_object()
        found = self.find_duplicates(MatchProbe.of_record(record), exclude_pk=record.pk)
        return Response(self.duplicate_serializer_class(found, many=True).data)

    @extend_schema(
        summary="Likely duplicates of a record about to be created, best first",
        description=DESCRIPTION + " Send the record's body (company_name, contact_person, email, phone are read).",
        request=DuplicateCheckSerializer,
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="check-duplicates",
        filter_backends=[],
        pagination_class=None,
        sends_etag=False,
    )
    def check_duplicates(self, request):
        body = DuplicateCheckSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        found = self.find_duplicates(MatchProbe.of(**body.validated_data))
        return Response(self.duplicate_serializer_class(found, many=True).data)
