"""``GET /api/v1/crm/customers/{id}/timeline``: the customer's timeline (``timeline.py``), cursor by cursor."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_project.core.api.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from crm_project.core.api.permissions import HasCRMRole
from customers.selectors import customer_list_visible_to

from .timeline import ITEM_TYPES, customer_timeline, parse_types


class TimelineQuerySerializer(serializers.Serializer):
    cursor = serializers.CharField(
        required=False, help_text="The `next_cursor` of the page before; none for the first."
    )
    types = serializers.CharField(
        required=False, help_text=f"Only these item types, comma-separated: {', '.join(ITEM_TYPES)}."
    )
    page_size = serializers.IntegerField(
        required=False, min_value=1, default=DEFAULT_PAGE_SIZE, help_text=f"Items per page (at most {MAX_PAGE_SIZE})."
    )


class TimelineItemSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    type = serializers.ChoiceField(choices=ITEM_TYPES)
    record_type = serializers.CharField(help_text="communication, customer, lead or opportunity.")
    record_id = serializers.UUIDField()
    summary = serializers.CharField(help_text="The item in words.")
    data = serializers.JSONField(help_text="The communication as the API renders it, or the change's details.")


class TimelinePageSerializer(serializers.Serializer):
    results = TimelineItemSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass it back as ?cursor=; null on the last page.")


@extend_schema(
    tags=["customers"],
    summary="A customer's timeline: communications and changes, newest first",
    description=(
        "One stream per customer: its communications and the history of the customer, its leads "
        "and its opportunities, as far as you may see them. Cursor-paginated: pass `next_cursor` "
        "back as `?cursor=`."
    ),
    parameters=[
        OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="The customer."),
        TimelineQuerySerializer,
    ],
    responses=TimelinePageSerializer,
)
class CustomerTimelineView(APIView):
    permission_classes = [IsAuthenticated, HasCRMRole]

    def get(self, request, pk):
        # Only that it is there and visible: none of what the customer list joins or prefetches.
        customer = get_object_or_404(
            customer_list_visible_to(request.user).select_related(None).prefetch_related(None).only("pk"), pk=pk
        )
        query = TimelineQuerySerializer(data={key: value for key, value in request.query_params.items() if value})
        query.is_valid(raise_exception=True)
        params = query.validated_data
        items, next_cursor = customer_timeline(
            request.user,
            customer.pk,
            types=parse_types(params.get("types")),
            cursor=params.get("cursor"),
            page_size=min(params["page_size"], MAX_PAGE_SIZE),
        )
        return Response(TimelinePageSerializer({"results": items, "next_cursor": next_cursor}).data)
