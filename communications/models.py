"""Every interaction with a customer or prospect: calls, emails, meetings, and their follow-ups."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from crm_project.core.models import CRMRecord


class CommunicationType(models.TextChoices):
    PHONE = "phone", "Phone call"
    EMAIL = "email", "Email"
    MEETING = "meeting", "In-person meeting"
    VIDEO_CALL = "video_call", "Video call"
    CHAT = "chat", "Chat"
    SMS = "sms", "SMS"
    VISIT = "visit", "Site visit"
    OTHER = "other", "Other"


class CommunicationDirection(models.TextChoices):
    INBOUND = "inbound", "Inbound (customer initiated)"
    OUTBOUND = "outbound", "Outbound (sales team initiated)"


class Communication(CRMRecord):
    # The records it is about: at least one (service check and database constraint).
    # History is kept: a record that communications refer to cannot be deleted.
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="communications"
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.PROTECT, related_name="communications"
    )
    opportunity = models.ForeignKey(
        "opportunities.Opportunity",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="communications",
    )
    our_representative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="communications",
    )
    type = models.CharField(max_length=20, choices=CommunicationType.choices, default=CommunicationType.OTHER)
    direction = models.CharField(
        max_length=10, choices=CommunicationDirection.choices, default=CommunicationDirection.OUTBOUND
    )
    subject = models.CharField(max_length=300)
    content = models.TextField(blank=True)
    contact_person = models.CharField(max_length=200, blank=True)
    communication_date = models.DateTimeField(default=timezone.now)
    duration_minutes = models.IntegerField(null=True, blank=True)
    requires_follow_up = models.BooleanField(default=False)
    follow_up_date = models.DateTimeField(null=True, blank=True)
    follow_up_completed = models.BooleanField(default=False, editable=False)
    follow_up_completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    attachments = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-communication_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(customer__isnull=False) | Q(lead__isnull=False) | Q(opportunity__isnull=False),
                name="communication_has_subject_record",
                violation_error_message="A communication must concern a customer, a lead or an opportunity.",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True) | Q(duration_minutes__gte=0),
                name="communication_duration_non_negative",
                violation_error_message="Duration cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(requires_follow_up=False) | Q(follow_up_date__isnull=False),
                name="communication_follow_up_has_date",
                violation_error_message="A follow-up date is required when a follow-up is required.",
            ),
            models.CheckConstraint(
                condition=Q(follow_up_completed=False) | Q(requires_follow_up=True),
                name="communication_completed_needs_follow_up",
                violation_error_message="Only a required follow-up can be completed.",
            ),
        ]
        indexes = [
            models.Index(fields=["communication_date", "id"], name="comm_date_idx"),
            # The three histories: one record's communications, newest first.
            models.Index(fields=["customer", "communication_date"], name="comm_customer_date_idx"),
            models.Index(fields=["lead", "communication_date"], name="comm_lead_date_idx"),
            models.Index(fields=["opportunity", "communication_date"], name="comm_opportunity_date_idx"),
            models.Index(fields=["our_representative", "communication_date"], name="comm_rep_date_idx"),
            # The pending follow-up list: only open follow-ups, oldest due first.
            models.Index(
                fields=["follow_up_date"],
                condition=Q(requires_follow_up=True, follow_up_completed=False),
                name="comm_pending_follow_up_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()}: {self.subject}"

    @property
    def is_overdue(self) -> bool:
        return bool(
            self.requires_follow_up
            and not self.follow_up_completed
            and self.follow_up_date is not None
            and self.follow_up_date < timezone.now()
        )
