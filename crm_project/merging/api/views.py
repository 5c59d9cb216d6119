"""
``POST /api/v1/crm/{customers|leads}/{id}/merge`` and ``/api/v1/crm/merges``: the HTTP shell
around the merge services. Managers only.
"""

from __future__ import annotations

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_project.core.api.permissions import HasCRMRole, IsManager
from crm_project.core.api.viewsets import ParsesEveryBody
from crm_project.core.versioning import etag_for
from crm_project.merging import services
from crm_project.merging.filters import MergeFilterSet
from crm_project.merging.models import MergeKind
from crm_project.merging.selectors import merge_list_visible_to
from customers.api.serializers import CustomerSerializer
from customers.selectors import customer_list_visible_to
from leads.api.serializers import LeadSerializer
from leads.selectors import lead_list_visible_to

from .serializers import MergeDetailSerializer, MergeRequestSerializer, MergeSerializer

RECORD_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The surviving record.")
MERGE_HEADER = OpenApiParameter(
    "X-CRM-Merge",
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    response=[200],
    description="The merge's id: read it at /merges/{id}, undo it at /merges/{id}/undo.",
)
MERGE_ID = OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The merge's id.")


class RecordMergeView(ParsesEveryBody, APIView):
    """Merge duplicates into the record of the path; answer the survivor as its own endpoint does."""

    permission_classes = [IsAuthenticated, HasCRMRole, IsManager]
    kind: str
    visible = None
    output_serializer = None

    def post(self, request, pk):
        try:
            pk = uuid.UUID(pk)
        except ValueError:
            raise NotFound() from None  # A malformed id in a path is 404, as everywhere.
        body = MergeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        merge = services.merge_records(
            actor=request.user,
            kind=self.kind,
            survivor_id=pk,
            duplicate_ids=body.validated_data["duplicate_ids"],
            fields=body.validated_data.get("fields"),
        )
        survivor = type(self).visible(request.user).get(pk=merge.survivor_id)
        response = Response(self.output_serializer(survivor).data)
        response["ETag"] = etag_for(survivor)
        response["X-CRM-Merge"] = str(merge.pk)
        return response


@extend_schema(
    tags=["customers"],
    summary="Merge duplicate customers into this one (managers)",
    description=(
        "Their opportunities, communications, converted leads, segment memberships and history move here; "
        "they are gone afterwards (a GET answers 404 with merged_into). The merge's id is in the "
        "X-CRM-Merge header (GET /merges/{id}, POST /merges/{id}/undo)."
    ),
    parameters=[RECORD_ID, MERGE_HEADER],
    request=MergeRequestSerializer,
    responses=CustomerSerializer,
)
class CustomerMergeView(RecordMergeView):
    kind = MergeKind.CUSTOMER
    visible = staticmethod(customer_list_visible_to)
    output_serializer = CustomerSerializer

    def post(self, request, pk):
        return super().post(request, pk)


@extend_schema(
    tags=["leads"],
    summary="Merge duplicate open leads into this one (managers)",
    description="Their opportunities and communications move here; a converted lead is 409.",
    parameters=[RECORD_ID, MERGE_HEADER],
    request=MergeRequestSerializer,
    responses=LeadSerializer,
)
class LeadMergeView(RecordMergeView):
    kind = MergeKind.LEAD
    visible = staticmethod(lead_list_visible_to)
    output_serializer = LeadSerializer

    def post(self, request, pk):
        return super().post(request, pk)


@extend_schema_view(
    list=extend_schema(summary="List merges (managers)"),
    retrieve=extend_schema(summary="Read a merge: what was merged, by whom, when, what moved", parameters=[MERGE_ID]),
)
@extend_schema(tags=["merges"])
class MergeViewSet(ParsesEveryBody, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, HasCRMRole, IsManager]
    filterset_class = MergeFilterSet
    ordering_fields = ["merged_at"]
    ordering = ["-merged_at", "-id"]

    def get_queryset(self):
        return merge_list_visible_to(self.request.user)

    def get_serializer_class(self):
        return MergeSerializer if self.action == "list" else MergeDetailSerializer

    @extend_schema(
        summary="Undo a merge within 30 days (managers)",
        description="The duplicates come back with their ids, and what moved moves back. 409 naming what "
        "changed since in a way that cannot be moved back, or when undone already or too old.",
        parameters=[MERGE_ID],
        request=None,
        responses=MergeDetailSerializer,
    )
    @action(detail=True, methods=["post"], url_path="undo")
    def undo(self, request, pk=None):
        merge = services.merge_undo(actor=request.user, merge=self.get_object())
        return Response(MergeDetailSerializer(merge).data)
