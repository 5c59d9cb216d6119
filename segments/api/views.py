"""``/api/v1/crm/segments``: the HTTP shell around segment services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from crm_project.core.api.history import HistoryActionMixin
from crm_project.core.api.viewsets import CRMModelViewSet
from customers.api.serializers import CustomerSerializer
from segments import selectors, services
from segments.filters import SegmentFilterSet

from .serializers import (
    CUSTOMER_IDS_REQUEST,
    ApplyCriteriaResultSerializer,
    AssignResultSerializer,
    CustomerIdsSerializer,
    MatchingCustomersPageSerializer,
    PerformanceQuerySerializer,
    RemoveResultSerializer,
    SegmentInputSerializer,
    SegmentPerformanceSerializer,
    SegmentSerializer,
)

MANAGERS_ONLY = "Managers only (403 for sales reps)."


@extend_schema_view(
    list=extend_schema(summary="List segments (ordered by priority, then name)"),
    create=extend_schema(summary="Create a segment", description=MANAGERS_ONLY),
    retrieve=extend_schema(summary="Read a segment"),
    update=extend_schema(summary="Update a segment (partial)", description=MANAGERS_ONLY),
    partial_update=extend_schema(summary="Update a segment (partial)", description=MANAGERS_ONLY),
    destroy=extend_schema(
        summary="Delete a segment", description="Its memberships go with it; the customers stay. " + MANAGERS_ONLY
    ),
)
@extend_schema(tags=["segments"])
class SegmentViewSet(HistoryActionMixin, CRMModelViewSet):
    history_record_type = "segment"
    serializer_class = SegmentSerializer
    input_serializer_class = SegmentInputSerializer
    filterset_class = SegmentFilterSet
    ordering_fields = ["priority", "name", "code", "customer_count", "created_at", "updated_at"]
    ordering = ["priority", "name", "id"]

    def visible_queryset(self):
        return selectors.segment_list_visible_to(self.request.user)

    def filter_queryset(self, queryset):
        # The list's filters select segments for the list; an action on one segment finds it
        # by id alone, whatever its own query parameters (page, start_date, ...).
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def create_record(self, data):
        return services.segment_create(actor=self.request.user, data=data)

    def update_record(self, instance, data, if_match):
        return services.segment_update(actor=self.request.user, segment=instance, data=data, if_match=if_match)

    def delete_record(self, instance, if_match):
        services.segment_delete(actor=self.request.user, segment=instance, if_match=if_match)

    # --- membership ---------------------------------------------------------------------------

    def requested_customer_ids(self, segment) -> list:
        serializer = CustomerIdsSerializer(data=self.request.data, context={"segment": segment})
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data["customer_ids"]

    def customer_page(self, queryset) -> Response:
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(CustomerSerializer(page, many=True).data)

    @extend_schema(
        summary="Assign customers to the segment (bulk)",
        description=(
            "Adds the customers; those already in the segment are counted, not refused. Any unknown "
            f"customer id is a 400 naming it, and nothing changes. Up to {services.MAX_CUSTOMER_IDS} ids; "
            "duplicates count once. " + MANAGERS_ONLY
        ),
        request={"application/json": CUSTOMER_IDS_REQUEST},
        responses=AssignResultSerializer,
    )
    @action(detail=True, methods=["post"], url_path="assign-customers", sends_etag=False)
    def assign_customers(self, request, pk=None):
        segment = self.get_object()
        result = services.segment_assign_customers(
            actor=request.user, segment=segment, customer_ids=self.requested_customer_ids(segment)
        )
        return Response(AssignResultSerializer(result).data)

    @extend_schema(
        summary="Remove customers from the segment (bulk)",
        description=(
            "Takes the customers out; those not in the segment are counted, not refused. The body is "
            'the bare list of ids or `{"customer_ids": [...]}`. Any unknown customer '
            f"id is a 400 naming it, and nothing changes. Up to {services.MAX_CUSTOMER_IDS} ids. " + MANAGERS_ONLY
        ),
        request={"application/json": CUSTOMER_IDS_REQUEST},
        responses=RemoveResultSerializer,
    )
    @action(detail=True, methods=["post"], url_path="remove-customers", sends_etag=False)
    def remove_customers(self, request, pk=None):
        segment = self.get_object()
        result = services.segment_remove_customers(
            actor=request.user, segment=segment, customer_ids=self.requested_customer_ids(segment)
        )
        return Response(RemoveResultSerializer(result).data)

    @extend_schema(
        summary="The customers in the segment",
        description=(
            "Paginated, in the customer list's shape and order (newest first). To search or filter "
            "them, use the customer list: `GET /customers?segment_id=...`."
        ),
        filters=False,
        responses=CustomerSerializer(many=True),
    )
    @action(detail=True, methods=["get"], url_path="customers", sends_etag=False)
    def customers(self, request, pk=None):
        return self.customer_page(selectors.segment_members(segment=self.get_object(), user=request.user))

    # --- criteria -----------------------------------------------------------------------------

    @extend_schema(
        summary="The customers that meet the segment's criteria",
        description=(
            "Active customers meeting every known criterion (`min_annual_spend`, `max_annual_spend`, "
            "`order_frequency`, `credit_rating`, `industry`, `country`, `city`; a list means any of "
            "its values; text compares case-insensitively), members or not. Keys the CRM does not know "
            "are listed in `unrecognized_criteria` and set no condition."
        ),
        filters=False,
        parameters=[
            OpenApiParameter(
                "page",
                {"type": "integer", "minimum": 1},
                description="Page number, from 1. A page past the end is 404.",
            ),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1},
                description="Results per page (default 50; above 200 is clamped).",
            ),
        ],
        responses=MatchingCustomersPageSerializer,
    )
    @action(detail=True, methods=["get"], url_path="matching-customers", sends_etag=False)
    def matching_customers(self, request, pk=None):
        matches = selectors.segment_matching_customers(segment=self.get_object(), user=request.user)
        response = self.customer_page(matches.customers)
        response.data["unrecognized_criteria"] = matches.unrecognized_criteria
        return response

    @extend_schema(
        summary="Assign the customers that meet the segment's criteria",
        description=(
            "Adds every customer listed by matching-customers (members that no longer match stay). "
            "409 when the segment has no criterion the CRM can evaluate. " + MANAGERS_ONLY
        ),
        request=None,
        responses=ApplyCriteriaResultSerializer,
    )
    @action(detail=True, methods=["post"], url_path="apply-criteria", sends_etag=False)
    def apply_criteria(self, request, pk=None):
        result = services.segment_apply_criteria(actor=request.user, segment=self.get_object())
        return Response(ApplyCriteriaResultSerializer(result).data)

    # --- performance --------------------------------------------------------------------------

    @extend_schema(
        summary="How the segment's customers are doing",
        description=(
            "Over the segment's current customers: open opportunities whatever their dates, won and "
            "lost ones closed within the range, communications dated within it (dates inclusive). "
            "A sales rep's figures count only the opportunities and communications they may see."
        ),
        parameters=[PerformanceQuerySerializer],
        responses=SegmentPerformanceSerializer,
    )
    @action(detail=True, methods=["get"], url_path="performance", sends_etag=False)
    def performance(self, request, pk=None):
        segment = self.get_object()
        query = PerformanceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        figures = selectors.segment_performance(segment=segment, user=request.user, **query.validated_data)
        return Response(SegmentPerformanceSerializer(figures).data)
