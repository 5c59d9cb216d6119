"""``/api/v1/crm/leads``: the HTTP shell around lead services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from crm_project.core.api.duplicates import DuplicatesActionMixin
from crm_project.core.api.history import HistoryActionMixin
from crm_project.core.api.jobs import ExportActionMixin, JobSerializer, accepted
from crm_project.core.api.schema import IF_MATCH
from crm_project.core.api.viewsets import CRMModelViewSet
from leads import selectors, services
from leads.exports import LEAD_EXPORT
from leads.filters import LeadFilterSet

from .serializers import (
    LeadAnalyticsQuerySerializer,
    LeadAnalyticsSummarySerializer,
    LeadCohortSerializer,
    LeadCohortsQuerySerializer,
    LeadConvertSerializer,
    LeadCreateSerializer,
    LeadDuplicateSerializer,
    LeadFollowUpQuerySerializer,
    LeadImportRequestSerializer,
    LeadQualifySerializer,
    LeadSerializer,
    LeadUpdateSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="List leads"),
    create=extend_schema(summary="Create a lead (numbered LEAD-YYYYMMDD-XXXX, status new)"),
    retrieve=extend_schema(summary="Read a lead"),
    update=extend_schema(summary="Update a lead (partial)"),
    partial_update=extend_schema(summary="Update a lead (partial)"),
    destroy=extend_schema(summary="Delete a lead (managers only)"),
    duplicates=extend_schema(responses=LeadDuplicateSerializer(many=True)),
    check_duplicates=extend_schema(responses=LeadDuplicateSerializer(many=True)),
)
@extend_schema(tags=["leads"])
class LeadViewSet(HistoryActionMixin, DuplicatesActionMixin, ExportActionMixin, CRMModelViewSet):
    history_record_type = "lead"
    merged_record_type = "lead"
    duplicate_serializer_class = LeadDuplicateSerializer
    csv_export = LEAD_EXPORT
    serializer_class = LeadSerializer
    input_serializer_class = LeadUpdateSerializer
    filterset_class = LeadFilterSet
    ordering_fields = [
        "created_at",
        "updated_at",
        "lead_number",
        "company_name",
        "estimated_deal_value",
        "qualification_score",
        "next_follow_up_date",
    ]
    ordering = ["-created_at", "-id"]
    extra_error_statuses = {
        "qualify": ["412"],
        "convert": ["412"],
        "follow_ups_today": ["400"],
        "analytics_summary": ["400"],
        "analytics_cohorts": ["400"],
    }

    def visible_queryset(self):
        return selectors.lead_list_visible_to(self.request.user)

    def get_input_serializer_class(self):
        return LeadCreateSerializer if self.action == "create" else LeadUpdateSerializer

    def find_duplicates(self, probe, exclude_pk=None):
        return selectors.lead_duplicates(self.request.user, probe=probe, exclude_pk=exclude_pk)

    def create_record(self, data):
        return services.lead_create(actor=self.request.user, data=data)

    def update_record(self, instance, data, if_match):
        return services.lead_update(actor=self.request.user, lead=instance, data=data, if_match=if_match)

    def delete_record(self, instance, if_match):
        services.lead_delete(actor=self.request.user, lead=instance, if_match=if_match)

    def parsed(self, serializer_class, data) -> dict:
        serializer = serializer_class(data=data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @extend_schema(
        summary="Qualify a lead (score 0–100; notes are appended)",
        request=LeadQualifySerializer,
        responses=LeadSerializer,
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["post"], url_path="qualify")
    def qualify(self, request, pk=None):
        lead = self.get_object()
        body = self.parsed(LeadQualifySerializer, request.data)
        lead = services.lead_qualify(actor=request.user, lead=lead, **body, if_match=self.if_match())
        return self.record_response(lead)

    @extend_schema(
        summary="Convert a lead into a customer (an existing one, or a new one from the lead)",
        request=LeadConvertSerializer,
        responses=LeadSerializer,
        parameters=[IF_MATCH],
    )
    @action(detail=True, methods=["post"], url_path="convert")
    def convert(self, request, pk=None):
        lead = self.get_object()
        body = self.parsed(LeadConvertSerializer, request.data)
        lead = services.lead_convert(
            actor=request.user,
            lead=lead,
            customer=body.get("customer"),
            notes=body.get("notes"),
            if_match=self.if_match(),
        )
        return self.record_response(lead)

    @extend_schema(
        summary="Today's follow-ups: open leads due today (and overdue ones on request), soonest first",
        parameters=[LeadFollowUpQuerySerializer],
        responses=LeadSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="follow-ups/today", filter_backends=[])
    def follow_ups_today(self, request):
        params = self.parsed(LeadFollowUpQuerySerializer, request.query_params)
        leads = selectors.lead_follow_ups_due_today(request.user, **params)
        page = self.paginate_queryset(leads)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Lead analytics: counts by status and source, conversion rate, time to convert",
        parameters=[LeadAnalyticsQuerySerializer],
        responses=LeadAnalyticsSummarySerializer,
    )
    @action(detail=False, methods=["get"], url_path="analytics/summary", filter_backends=[], pagination_class=None)
    def analytics_summary(self, request):
        params = self.parsed(LeadAnalyticsQuerySerializer, request.query_params)
        start, end = params.get("start_date"), params.get("end_date")
        summary = selectors.lead_analytics_summary(request.user, start=start, end=end)
        return Response(LeadAnalyticsSummarySerializer({**summary, "start_date": start, "end_date": end}).data)

    @extend_schema(
        summary="Lead cohorts by month of creation: how many reached each step",
        description=(
            "Per month of creation: the leads created, and those that ever reached contacted, qualified and "
            "converted (a converted lead counts in all three), with the median days to convert. Sales reps count "
            "the leads they may see, as in analytics/summary."
        ),
        parameters=[LeadCohortsQuerySerializer],
        responses=LeadCohortSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="analytics/cohorts", filter_backends=[], pagination_class=None)
    def analytics_cohorts(self, request):
        params = self.parsed(LeadCohortsQuerySerializer, request.query_params)
        cohorts = selectors.lead_cohorts(request.user, start=params.get("start_date"), end=params.get("end_date"))
        return Response(LeadCohortSerializer(cohorts, many=True).data)

    @extend_schema(
        summary="Import leads from a CSV file, in the background (managers)",
        description=(
            "The rules of the lead list's create, row by row; errors come back by row number in the job. "
            "All or nothing unless skip_invalid. Answers 202 with the job."
        ),
        request={"multipart/form-data": LeadImportRequestSerializer},
        responses={202: JobSerializer},
    )
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser], filter_backends=[])
    def import_file(self, request):
        body = self.parsed(LeadImportRequestSerializer, request.data)
        job = services.lead_import_start(
            actor=request.user,
            upload=body["file"],
            dry_run=body["dry_run"],
            skip_invalid=body["skip_invalid"],
            assign_to=body.get("assign_to"),
        )
        return accepted(job, request)
