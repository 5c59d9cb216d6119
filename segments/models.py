"""Customer segments: named groups of customers with criteria, benefits and a true count."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from django.utils import timezone

from crm_project.core.models import CRMRecord

CODE_TAKEN = "A segment with this code already exists."
PRIORITY_MAX = 2_147_483_647  # The priority column is a 32-bit integer.


class JSONType(models.Func):
    """
    The type of a JSON value as the database names it (``object``, ``array``, ...):
    ``JSON_TYPE`` on SQLite, ``JSONB_TYPEOF`` on PostgreSQL. It lets a check constraint
    hold "criteria is a JSON object" on both databases.
    """

    function = "JSON_TYPE"
    output_field = models.CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="JSONB_TYPEOF", **extra_context)


class Segment(CRMRecord):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    code = models.CharField(max_length=50)
    criteria = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    # Lower comes first.
    priority = models.IntegerField(default=0)
    benefits = models.JSONField(default=dict, blank=True)
    # Applied each night by the scheduled refresh: customers that have come to meet the
    # criteria join (``segments.jobs``).
    auto_refresh = models.BooleanField(default=False)
    # A cache of the membership count, kept true by services.segment_recount (signals call
    # it for single changes, bulk paths call it themselves).
    customer_count = models.IntegerField(default=0, editable=False)
    customers = models.ManyToManyField(
        "customers.Customer", through="SegmentMembership", related_name="segments", blank=True
    )

    class Meta:
        ordering = ["priority", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("code"),
                name="segment_code_ci_unique",
                violation_error_message=CODE_TAKEN,
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=0),
                name="segment_priority_non_negative",
                violation_error_message="Priority cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(customer_count__gte=0),
                name="segment_customer_count_non_negative",
                violation_error_message="Customer count cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Exact(JSONType("criteria"), "object"),
                name="segment_criteria_is_object",
                violation_error_message="Must be a JSON object.",
            ),
            models.CheckConstraint(
                condition=Exact(JSONType("benefits"), "object"),
                name="segment_benefits_is_object",
                violation_error_message="Must be a JSON object.",
            ),
        ]
        indexes = [
            models.Index(fields=["priority", "name", "id"], name="segment_order_idx"),
            models.Index(fields=["is_active", "priority", "name"], name="segment_active_order_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class SegmentMembership(models.Model):
    """A customer in a segment: who put it there, and when."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="segment_memberships")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["segment", "customer"],
                name="segment_membership_unique",
                violation_error_message="This customer is already in the segment.",
            )
        ]
        indexes = [models.Index(fields=["customer", "segment"], name="segmember_customer_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.segment_id}"
