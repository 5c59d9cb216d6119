"""``/api/v1/crm/opportunities``: the HTTP shell around opportunity services and selectors."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.response import Response

from crm_project.core.api.history import HistoryActionMixin
from crm_project.core.api.jobs import ExportActionMixin
from crm_project.core.api.schema import IF_MATCH
from crm_project.core.api.viewsets import CRMModelViewSet
from opportunities import services
from opportunities.exports import OPPORTUNITY_EXPORT
from opportunities.filters import OpportunityFilterSet
from opportunities.selectors import (
    opportunity_list_visible_to,
    opportunity_pipeline_stats,
    opportunity_stage_history,
)
from opportunities.selectors.forecast import opportunity_forecast
from opportunities.selectors.velocity import opportunity_velocity

from .forecast import ForecastQuerySerializer, ForecastSerializer
from .serializers import (
    CLOSE_REQUEST,
    OpportunityCloseSerializer,
    OpportunityInputSerializer,
    OpportunitySerializer,
    OpportunityStageChangeSerializer,
    PipelineStatsQuerySerializer,
    PipelineStatsSerializer,
)
from .velocity import VelocityQuerySerializer, VelocitySerializer

# The path takes any segment (see lookup_value_regex); what it names is a UUID.
OPPORTUNITY_ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="A UUID string identifying this opportunity."
)


@extend_schema_view(
    list=extend_schema(summary="List opportunities"),
    create=extend_schema(summary="Create an opportunity"),
    retrieve=extend_schema(summary="Read an opportunity", parameters=[OPPORTUNITY_ID]),
    update=extend_schema(summary="Update an open opportunity (partial)", parameters=[OPPORTUNITY_ID]),
    partial_update=extend_schema(summary="Update an open opportunity (partial)", parameters=[OPPORTUNITY_ID]),
    destroy=extend_schema(summary="Delete an opportunity (managers only)", parameters=[OPPORTUNITY_ID]),
)
@extend_schema(tags=["opportunities"])
class OpportunityViewSet(HistoryActionMixin, ExportActionMixin, CRMModelViewSet):
    history_record_type = "opportunity"
    csv_export = OPPORTUNITY_EXPORT
    serializer_class = OpportunitySerializer
    input_serializer_class = OpportunityInputSerializer
    filterset_class = OpportunityFilterSet
    ordering_fields = [
        "created_at",
        "updated_at",
        "opportunity_number",
        "name",
        "estimated_value",
        "probability",
        "expected_revenue",
        "expected_close_date",
        "actual_close_date",
    ]
    ordering = ["-created_at", "-id"]
    # Any path segment reaches the view (a malformed id is then a JSON 404, not a routing miss).
    lookup_value_regex = "[^/]+"
    # close honours If-Match like an update does.
    extra_error_statuses = {"close": ["412"], "forecast": ["400"], "velocity": ["400"]}

    def visible_queryset(self):
        return opportunity_list_visible_to(self.request.user)

    def create_record(self, data):
        return services.opportunity_create(actor=self.request.user, data=data)

    def update_record(self, instance, data, if_match):
        return services.opportunity_update(actor=self.request.user, opportunity=instance, data=data, if_match=if_match)

    def delete_record(self, instance, if_match):
        services.opportunity_delete(actor=self.request.user, opportunity=instance, if_match=if_match)

    @extend_schema(
        summary="Close an opportunity as won or lost",
        description=(
            "Won sets probability 100, lost sets 0 and needs `loss_reason`. `actual_close_date` "
            "defaults to now; `notes` are appended, dated. Closing a closed opportunity is 409."
        ),
        request={"application/json": CLOSE_REQUEST},
        responses=OpportunitySerializer,
        parameters=[OPPORTUNITY_ID, IF_MATCH],
    )
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        opportunity = self.get_object()
        body = OpportunityCloseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        opportunity = services.opportunity_close(
            actor=request.user, opportunity=opportunity, if_match=self.if_match(), **body.validated_data
        )
        return self.record_response(opportunity)

    @extend_schema(
        summary="Stage history of an opportunity (oldest first)",
        description="Every stage the opportunity entered, with its value and probability then.",
        parameters=[OPPORTUNITY_ID],
        responses=OpportunityStageChangeSerializer(many=True),
    )
    # A plain page of rows: no list filters, no ETag (it is not a record).
    @action(detail=True, methods=["get"], url_path="stage-history", filter_backends=[], sends_etag=False)
    def stage_history(self, request, pk=None):
        opportunity = self.get_object()
        page = self.paginate_queryset(opportunity_stage_history(opportunity))
        return self.get_paginated_response(OpportunityStageChangeSerializer(page, many=True).data)

    @extend_schema(
        summary="Pipeline statistics",
        description=(
            "Counts and values per stage over the opportunities you may see. Pipeline values are "
            "over open stages only; `win_rate` is won ÷ (won + lost) × 100."
        ),
        parameters=[PipelineStatsQuerySerializer],
        responses=PipelineStatsSerializer,
    )
    @action(detail=False, methods=["get"], url_path="pipeline/stats", filter_backends=[], pagination_class=None)
    def pipeline_stats(self, request):
        query = PipelineStatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        stats = opportunity_pipeline_stats(request.user, owner_id=query.validated_data.get("owner_id"))
        return Response(PipelineStatsSerializer(stats).data)

    @extend_schema(
        summary="Forecast against quota, by month or quarter",
        description=(
            "Per period: the quota, what was won (`actual_close_date` in it) and the open opportunities expected "
            "to close in it (`expected_close_date`) by forecast category, each category alone (not cumulative); "
            "`weighted` is Σ expected_revenue of those open ones; `attainment` = closed_won ÷ quota × 100 (null "
            "without a quota). A quarter's quota is the sum of its months'. Without `owner_id` a manager gets the "
            "team (every user's quotas summed); a sales rep always gets their own. `snapshot` holds the same "
            "figures as they stood on the period's first day (null when none was taken that day)."
        ),
        parameters=[ForecastQuerySerializer],
        responses=ForecastSerializer,
    )
    @action(detail=False, methods=["get"], url_path="forecast", filter_backends=[], pagination_class=None)
    def forecast(self, request):
        query = ForecastQuerySerializer(data=request.query_params, context={"today": timezone.localdate()})
        query.is_valid(raise_exception=True)
        forecast = opportunity_forecast(request.user, **query.validated_data)
        return Response(ForecastSerializer(forecast).data)

    @extend_schema(
        summary="Sales velocity from the stage history",
        description=(
            "Over the stage moves dated in the range: per open stage the entries, the days spent in it (mean and "
            "median, by the entries that left it) and the share that moved on (to a later open stage or won); the "
            "mean days from creation to won; win rates by the lead's source and the customer's industry; the mean "
            "won value. Sales reps count their own opportunities only."
        ),
        parameters=[VelocityQuerySerializer],
        responses=VelocitySerializer,
    )
    @action(detail=False, methods=["get"], url_path="analytics/velocity", filter_backends=[], pagination_class=None)
    def velocity(self, request):
        query = VelocityQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        velocity = opportunity_velocity(
            request.user, start=params.get("start_date"), end=params.get("end_date"), owner_id=params.get("owner_id")
        )
        return Response(VelocitySerializer(velocity).data)
