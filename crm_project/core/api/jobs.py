"""
``/api/v1/jobs``: background work as its asker sees it (a rep their own jobs, a manager every
job): progress, result, row errors, cancellation, and the download of a finished export. Also
the ``export`` action that the exportable lists share.
"""

from __future__ import annotations

from django.http import FileResponse
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from crm_project.core.exports import CsvExport, export_start
from crm_project.core.jobs.selectors import job_list_visible_to
from crm_project.core.jobs.services import job_cancel
from crm_project.core.models import Job, JobStatus

from .permissions import HasCRMRole
from .viewsets import ParsesEveryBody


class JobProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="Rows (or items) done so far.")
    total = serializers.IntegerField(allow_null=True, help_text="Rows (or items) in all; null until known.")


class JobErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="The file's row (row 1 is the header); null: the file.")
    field = serializers.CharField(help_text="The column or field at fault.")
    message = serializers.CharField()


class JobSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="What the job does: lead_import, lead_export, ...")
    progress = serializers.SerializerMethodField()
    result = serializers.JSONField(read_only=True, allow_null=True, help_text="What the job did, once finished.")
    errors = JobErrorSerializer(many=True, read_only=True)
    created_by_id = serializers.IntegerField(source="owner_id", read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()
    failure = serializers.CharField(read_only=True, help_text="Why a failed job failed; empty otherwise.")

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "result",
            "errors",
            "failure",
            "created_by_id",
            "created_at",
            "started_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(JobProgressSerializer)
    def get_progress(self, job: Job) -> dict:
        return {"done": job.done, "total": job.total}

    @extend_schema_field(
        serializers.URLField(allow_null=True, help_text="Where to fetch a finished export's file; null otherwise.")
    )
    def get_download_url(self, job: Job) -> str | None:
        if job.status != JobStatus.SUCCEEDED or not job.output_file:
            return None
        url = reverse("job-download", kwargs={"pk": job.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url


def accepted(job: Job, request) -> Response:
    """202 with the job, and where to follow it."""
    response = Response(JobSerializer(job, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)
    response["Location"] = request.build_absolute_uri(reverse("job-detail", kwargs={"pk": job.pk}))
    return response


@extend_schema_view(
    list=extend_schema(summary="List background jobs", description="Your own jobs; a manager sees every job."),
    retrieve=extend_schema(summary="Read a background job"),
)
@extend_schema(tags=["jobs"])
class JobViewSet(ParsesEveryBody, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = JobSerializer
    permission_classes = [IsAuthenticated, HasCRMRole]
    filter_backends: list = []

    def get_queryset(self):
        return job_list_visible_to(self.request.user).order_by("-created_at", "-id")

    @extend_schema(
        summary="Download a finished export",
        responses={
            (200, "text/csv"): OpenApiResponse(response=bytes, description="The CSV file."),
        },
    )
    @action(detail=True, methods=["get"], url_path="download", url_name="download")
    def download(self, request, pk=None):
        job = self.get_object()
        if job.status != JobStatus.SUCCEEDED or not job.output_file:
            raise NotFound("This job has no file to download (yet).")
        # Streamed from storage in blocks: never the whole file in memory.
        return FileResponse(
            job.output_file.open("rb"),
            as_attachment=True,
            filename=job.output_file.name.rsplit("/", 1)[-1],
            content_type="text/csv; charset=utf-8",
        )

    @extend_schema(summary="Cancel a queued or running job", request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"], url_path="cancel")
    def cancel(self, request, pk=None):
        job = job_cancel(actor=request.user, job=self.get_object())
        return Response(JobSerializer(job, context={"request": request}).data)


class ExportActionMixin:
    """``POST <list>/export`` with the list's filters as query parameters: 202 with the export's job."""

    csv_export: CsvExport

    # The list's FilterSet, so that the schema lists its filters as this action's parameters (an
    # export has its own order, oldest first: no ``ordering``).
    @extend_schema(
        summary="Export the list as CSV, in the background",
        description=(
            "Takes the list's filters as query parameters; the file holds exactly what your list shows. "
            "Answers 202 with the job; its `download_url` gives the file once it has succeeded."
        ),
        filters=True,
        request=None,
        responses={202: JobSerializer},
    )
    @action(detail=False, methods=["post"], url_path="export", filter_backends=[DjangoFilterBackend])
    def export(self, request):
        job = export_start(actor=request.user, export=self.csv_export, query=request.query_params)
        return accepted(job, request)
