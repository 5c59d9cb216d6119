"""Leads: prospective wholesale buyers, from first contact to conversion into a customer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from crm_project.core.models import CRMRecord


class LeadStatus(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    QUALIFIED = "qualified", "Qualified"
    CONVERTED = "converted", "Converted"
    LOST = "lost", "Lost"


class LeadSource(models.TextChoices):
    WEBSITE = "website", "Website"
    REFERRAL = "referral", "Referral"
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    TRADE_SHOW = "trade_show", "Trade show"
    SOCIAL_MEDIA = "social_media", "Social media"
    ADVERTISEMENT = "advertisement", "Advertisement"
    COLD_CALL = "cold_call", "Cold call"
    PARTNER = "partner", "Partner"
    OTHER = "other", "Other"


class LeadPriority(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


# Statuses a client may set by a plain update; qualified and converted need their actions.
UPDATABLE_STATUSES = frozenset({LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.LOST})
# A lead in one of these is finished: no qualifying, converting or follow-ups.
CLOSED_STATUSES = frozenset({LeadStatus.CONVERTED, LeadStatus.LOST})
OPEN_STATUSES = frozenset(set(LeadStatus) - CLOSED_STATUSES)


class Lead(CRMRecord):
    lead_number = models.CharField(max_length=24, unique=True, editable=False)

    company_name = models.CharField(max_length=200)
    industry = models.CharField(max_length=100, blank=True)
    company_size = models.CharField(max_length=50, blank=True)
    website = models.URLField(max_length=300, blank=True)
    contact_person = models.CharField(max_length=200)
    title_position = models.CharField(max_length=100, blank=True)
    email = models.EmailField()
    phone = models.CharField(max_length=50, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)

    source = models.CharField(max_length=20, choices=LeadSource.choices, default=LeadSource.OTHER)
    status = models.CharField(max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW)
    priority = models.CharField(max_length=10, choices=LeadPriority.choices, default=LeadPriority.MEDIUM)
    estimated_deal_value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    requirements = models.TextField(blank=True)
    notes = models.TextField(blank=True)

    qualification_score = models.SmallIntegerField(null=True, blank=True)
    is_qualified = models.BooleanField(default=False)
    qualified_at = models.DateTimeField(null=True, blank=True, editable=False)

    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_leads",
    )
    next_follow_up_date = models.DateTimeField(null=True, blank=True)
    last_contacted_at = models.DateTimeField(null=True, blank=True, editable=False)

    converted_customer = models.ForeignKey(
        "customers.Customer",
        null=True,
        blank=True,
        # A customer that a lead converted into keeps its history: deleting it is refused.
        on_delete=models.PROTECT,
        related_name="converted_leads",
        editable=False,
    )
    converted_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    # Duplicate matching keys (crm_project/core/matching.py), kept by the lead services.
    match_company_name = models.CharField(max_length=200, blank=True, default="", editable=False)
    match_email_domain = models.CharField(max_length=254, blank=True, default="", editable=False)
    match_phone = models.CharField(max_length=10, blank=True, default="", editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="lead_email_ci_unique",
                violation_error_message="A lead with this email already exists.",
            ),
            models.CheckConstraint(
                condition=Q(qualification_score__isnull=True)
                | Q(qualification_score__gte=0, qualification_score__lte=100),
                name="lead_qualification_score_0_100",
                violation_error_message="Qualification score must be between 0 and 100.",
            ),
            models.CheckConstraint(
                condition=Q(estimated_deal_value__isnull=True) | Q(estimated_deal_value__gte=0),
                name="lead_deal_value_non_negative",
                violation_error_message="Estimated deal value cannot be negative.",
            ),
            models.CheckConstraint(
                condition=~Q(status=LeadStatus.CONVERTED)
                | Q(converted_customer__isnull=False, converted_at__isnull=False),
                name="lead_converted_has_customer",
                violation_error_message="A converted lead must name its customer and conversion time.",
            ),
            # The flag, its timestamp and the status tell one story: a qualified lead carries
            # both; a new or contacted one neither; a converted or lost one keeps whatever it
            # had when it left the pipeline.
            models.CheckConstraint(
                condition=(
                    Q(is_qualified=True, qualified_at__isnull=False)
                    & ~Q(status__in=[LeadStatus.NEW, LeadStatus.CONTACTED])
                )
                | (Q(is_qualified=False, qualified_at__isnull=True) & ~Q(status=LeadStatus.QUALIFIED)),
                name="lead_qualification_matches_status",
                violation_error_message=(
                    "A lead is qualified (with a qualification time) exactly while its status is qualified, "
                    "or after it was converted or lost as a qualified lead."
                ),
            ),
        ]
        indexes = [
            # Each list filter, ending in the default order, so "filter + newest 50" is an
            # index range scan.
            models.Index(fields=["created_at", "id"], name="lead_created_idx"),
            models.Index(fields=["status", "created_at"], name="lead_status_created_idx"),
            models.Index(fields=["source", "created_at"], name="lead_source_created_idx"),
            models.Index(fields=["priority", "created_at"], name="lead_priority_created_idx"),
            # With the id, a rep's lead ids come from the index alone (the communications'
            # visibility rule looks them up on every request). The foreign key keeps its own
            # narrow index: counting "assigned to me or to nobody" scans it 3x faster.
            models.Index(fields=["assigned_to", "created_at", "id"], name="lead_assignee_created_id_idx"),
            models.Index(fields=["is_qualified", "created_at"], name="lead_qualified_created_idx"),
            # Everything the analytics summary reads (leads.selectors.lead_analytics_summary):
            # it scans this index alone, a fraction of the table's size.
            models.Index(
                fields=["assigned_to", "status", "source", "created_at", "converted_at"], name="lead_analytics_idx"
            ),
            # Today's follow-ups: only open leads are ever asked for.
            models.Index(
                fields=["next_follow_up_date"],
                condition=Q(status__in=["new", "contacted", "qualified"]),
                name="lead_open_follow_up_idx",
            ),
            # Duplicate look-ups and find_duplicates' self-joins (the email has its unique index;
            # the company name's trigram index is in the match_keys migration, PostgreSQL only).
            models.Index(fields=["match_phone"], condition=~Q(match_phone=""), name="lead_match_phone_idx"),
            models.Index(
                fields=["match_email_domain"], condition=~Q(match_email_domain=""), name="lead_match_domain_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead_number} {self.company_name}"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    def can_be_updated(self) -> bool:
        """A converted lead is final; a lost one may still be edited (and reopened)."""
        return self.status != LeadStatus.CONVERTED

    def can_be_qualified(self) -> bool:
        return self.status not in CLOSED_STATUSES

    def can_be_converted(self) -> bool:
        return self.status not in CLOSED_STATUSES

    def can_be_marked_lost(self) -> bool:
        return self.status not in CLOSED_STATUSES

    def can_be_marked_contacted(self) -> bool:
        """A new lead, or a lost one being reopened; a qualified one is disqualified through qualify."""
        return self.status in (LeadStatus.NEW, LeadStatus.LOST)
