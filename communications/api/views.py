"""``/api/v1/crm/communications``: the HTTP shell around communication services and selectors."""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.response import Response

from communications import services
from communications.filters import CommunicationFilterSet, PendingFollowUpFilterSet
from communications.selectors import (
    communication_history,
    communication_list_visible_to,
    engagement_summary,
    pending_follow_ups,
)
from crm_project.core.api.history import HistoryActionMixin
from crm_project.core.api.schema import IF_MATCH
from crm_project.core.api.viewsets import CRMModelViewSet
from customers.selectors import customer_list_visible_to
from leads.selectors import lead_list_visible_to
from opportunities.selectors import opportunity_list_visible_to

from .serializers import (
    CommunicationInputSerializer,
    CommunicationSerializer,
    EngagementQuerySerializer,
    EngagementSummarySerializer,
)

# Histories: a record's whole history, newest first; paginated, no filters, no ETag.
HISTORY = {"filter_backends": [], "sends_etag": False}


def _path_id(name: str, description: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.UUID, OpenApiParameter.PATH, description=description)


@extend_schema_view(
    list=extend_schema(summary="List communications"),
    create=extend_schema(summary="Log a communication"),
    retrieve=extend_schema(summary="Read a communication"),
    update=extend_schema(summary="Update a communication (partial)"),
    partial_update=extend_schema(summary="Update a communication (partial)"),
    destroy=extend_schema(summary="Delete a communication"),
)
@extend_schema(tags=["communications"])
class CommunicationViewSet(HistoryActionMixin, CRMModelViewSet):
    history_record_type = "communication"
    serializer_class = CommunicationSerializer
    input_serializer_class = CommunicationInputSerializer
    filterset_class = CommunicationFilterSet
    ordering_fields = ["communication_date", "created_at", "follow_up_date", "duration_minutes"]
    ordering = ["-communication_date", "-id"]
    extra_error_statuses = {"complete_follow_up": ["412"]}

    def visible_queryset(self):
        return communication_list_visible_to(self.request.user)

    def create_record(self, data):
        return services.communication_log(actor=self.request.user, data=data)

    def update_record(self, instance, data, if_match):
        return services.communication_update(
            actor=self.request.user, communication=instance, data=data, if_match=if_match
        )

    def delete_record(self, instance, if_match):
        services.communication_delete(actor=self.request.user, communication=instance, if_match=if_match)

    # --- histories ----------------------------------------------------------------------

    def _history(self, queryset):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="A customer's communication history (newest first)",
        parameters=[_path_id("customer_id", "The customer.")],
        responses=CommunicationSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path=r"customer/(?P<customer_id>[^/.]+)", **HISTORY)
    def customer_history(self, request, customer_id=None):
        customer = get_object_or_404(customer_list_visible_to(request.user).prefetch_related(None), pk=customer_id)
        return self._history(communication_history(request.user, customer_id=customer.pk))

    @extend_schema(
        summary="A lead's communication history (newest first)",
        parameters=[_path_id("lead_id", "The lead.")],
        responses=CommunicationSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path=r"lead/(?P<lead_id>[^/.]+)", **HISTORY)
    def lead_history(self, request, lead_id=None):
        lead = get_object_or_404(lead_list_visible_to(request.user), pk=lead_id)
        return self._history(communication_history(request.user, lead_id=lead.pk))

    @extend_schema(
        summary="An opportunity's communication history (newest first)",
        parameters=[_path_id("opportunity_id", "The opportunity.")],
        responses=CommunicationSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path=r"opportunity/(?P<opportunity_id>[^/.]+)", **HISTORY)
    def opportunity_history(self, request, opportunity_id=None):
        opportunity = get_object_or_404(opportunity_list_visible_to(request.user), pk=opportunity_id)
        return self._history(communication_history(request.user, opportunity_id=opportunity.pk))

    # --- follow-ups ---------------------------------------------------------------------

    @extend_schema(
        summary="Pending follow-ups (oldest due first)",
        description="Follow-ups required and not completed; each item says `is_overdue`.",
        responses=CommunicationSerializer(many=True),
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="follow-ups/pending",
        filter_backends=[DjangoFilterBackend],
        filterset_class=PendingFollowUpFilterSet,
    )
    def follow_ups_pending(self, request):
        page = self.paginate_queryset(self.filter_queryset(pending_follow_ups(request.user)))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Mark the follow-up complete",
        description="400 when the communication requires no follow-up; 409 when it was completed already.",
        request=None,
        parameters=[IF_MATCH],
        responses=CommunicationSerializer,
    )
    @action(detail=True, methods=["post"], url_path="complete-follow-up")
    def complete_follow_up(self, request, pk=None):
        communication = services.communication_complete_follow_up(
            actor=request.user, communication=self.get_object(), if_match=self.if_match()
        )
        return self.record_response(communication)

    # --- analytics ----------------------------------------------------------------------

    @extend_schema(
        summary="Engagement analytics",
        description=(
            "Counts over the communications you may see, dated from `start_date` to `end_date` "
            "inclusive. `average_duration_minutes` is over communications with a duration (null "
            "when none has); `completion_rate` is a percentage with 2 decimals (0 when nothing is "
            "required); `overdue` counts required, uncompleted follow-ups due before now."
        ),
        parameters=[EngagementQuerySerializer],
        responses=EngagementSummarySerializer,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="analytics/engagement",
        filter_backends=[],
        pagination_class=None,
        sends_etag=False,
    )
    def engagement(self, request):
        query = EngagementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        summary = engagement_summary(user=request.user, **query.validated_data)
        return Response(EngagementSummarySerializer(summary).data)
