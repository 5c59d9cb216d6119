"""``/api/v1/crm/customers``: the HTTP shell around customer services and selectors."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view

from crm_project.core.api.duplicates import DuplicatesActionMixin
from crm_project.core.api.history import HistoryActionMixin
from crm_project.core.api.jobs import ExportActionMixin
from crm_project.core.api.viewsets import CRMModelViewSet
from customers import services
from customers.exports import CUSTOMER_EXPORT
from customers.filters import CustomerFilterSet
from customers.selectors import customer_duplicates, customer_list_visible_to

from .serializers import CustomerDuplicateSerializer, CustomerInputSerializer, CustomerSerializer


@extend_schema_view(
    list=extend_schema(summary="List customers"),
    create=extend_schema(summary="Create a customer"),
    retrieve=extend_schema(summary="Read a customer"),
    update=extend_schema(summary="Update a customer (partial)"),
    partial_update=extend_schema(summary="Update a customer (partial)"),
    destroy=extend_schema(summary="Delete a customer (managers only)"),
    duplicates=extend_schema(responses=CustomerDuplicateSerializer(many=True)),
    check_duplicates=extend_schema(responses=CustomerDuplicateSerializer(many=True)),
)
@extend_schema(tags=["customers"])
class CustomerViewSet(HistoryActionMixin, DuplicatesActionMixin, ExportActionMixin, CRMModelViewSet):
    history_record_type = "customer"
    merged_record_type = "customer"
    duplicate_serializer_class = CustomerDuplicateSerializer
    csv_export = CUSTOMER_EXPORT
    serializer_class = CustomerSerializer
    input_serializer_class = CustomerInputSerializer
    filterset_class = CustomerFilterSet
    ordering_fields = ["created_at", "updated_at", "customer_code", "company_name", "annual_spend", "last_contacted_at"]
    ordering = ["-created_at", "-id"]

    def visible_queryset(self):
        return customer_list_visible_to(self.request.user)

    def find_duplicates(self, probe, exclude_pk=None):
        return customer_duplicates(self.request.user, probe=probe, exclude_pk=exclude_pk)

    def create_record(self, data):
        return services.customer_create(actor=self.request.user, data=data)

    def update_record(self, instance, data, if_match):
        return services.customer_update(actor=self.request.user, customer=instance, data=data, if_match=if_match)

    def delete_record(self, instance, if_match):
        services.customer_delete(actor=self.request.user, customer=instance, if_match=if_match)
