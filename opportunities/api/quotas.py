"""``/api/v1/crm/quotas``: the HTTP shell around the quota services (managers write; reps read their own)."""

from __future__ import annotations

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers

from crm_project.core.api.fields import ActiveUserField, MoneyField
from crm_project.core.api.filters import UserIdFilter
from crm_project.core.api.serializers import StrictModelSerializer
from crm_project.core.api.viewsets import CRMModelViewSet
from opportunities import services
from opportunities.models import Quota
from opportunities.selectors import quota_list_visible_to

MANAGERS_ONLY = "Managers only (403 for sales reps)."
QUOTA_ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, OpenApiParameter.PATH, description="A UUID string identifying this quota."
)


class QuotaSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    amount = MoneyField(read_only=True)

    class Meta:
        model = Quota
        fields = ["id", "user_id", "period_start", "amount"]
        read_only_fields = fields


class QuotaInputSerializer(StrictModelSerializer):
    """Create and update (PUT and PATCH both partial); the rules are the service's."""

    user_id = ActiveUserField(source="user", help_text="The sales rep or manager whose target it is.")
    period_start = serializers.DateField(help_text="The first day of the month, e.g. 2026-01-01.")
    amount = MoneyField(help_text="The month's target (Σ estimated_value of the deals to win).")

    class Meta:
        model = Quota
        fields = ["user_id", "period_start", "amount"]
        # One quota per user and month is the service's rule (a 400 on period_start), not DRF's.
        validators: list = []


class QuotaFilterSet(django_filters.FilterSet):
    user_id = UserIdFilter(field_name="user_id", help_text="Only this user's quotas.")

    class Meta:
        model = Quota
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="List quotas (a sales rep sees their own)"),
    create=extend_schema(summary="Set a user's quota for a month", description=MANAGERS_ONLY),
    retrieve=extend_schema(summary="Read a quota", parameters=[QUOTA_ID]),
    update=extend_schema(summary="Update a quota (partial)", description=MANAGERS_ONLY, parameters=[QUOTA_ID]),
    partial_update=extend_schema(summary="Update a quota (partial)", description=MANAGERS_ONLY, parameters=[QUOTA_ID]),
    destroy=extend_schema(summary="Delete a quota", description=MANAGERS_ONLY, parameters=[QUOTA_ID]),
)
@extend_schema(tags=["quotas"])
class QuotaViewSet(CRMModelViewSet):
    serializer_class = QuotaSerializer
    input_serializer_class = QuotaInputSerializer
    filterset_class = QuotaFilterSet
    # Listed by month, then user: no ordering parameter.
    filter_backends = [DjangoFilterBackend]
    lookup_value_regex = "[^/]+"

    def visible_queryset(self):
        return quota_list_visible_to(self.request.user)

    def create_record(self, data):
        return services.quota_create(actor=self.request.user, data=data)

    def update_record(self, instance, data, if_match):
        return services.quota_update(actor=self.request.user, quota=instance, data=data, if_match=if_match)

    def delete_record(self, instance, if_match):
        services.quota_delete(actor=self.request.user, quota=instance, if_match=if_match)
