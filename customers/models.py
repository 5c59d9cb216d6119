"""The wholesale customers that leads convert into and opportunities are sold to."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from crm_project.core.models import CRMRecord


class CreditRating(models.TextChoices):
    EXCELLENT = "excellent", "Excellent"
    GOOD = "good", "Good"
    FAIR = "fair", "Fair"
    POOR = "poor", "Poor"


class OrderFrequency(models.TextChoices):
    WEEKLY = "weekly", "Weekly"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    YEARLY = "yearly", "Yearly"
    AD_HOC = "ad_hoc", "Ad hoc"


class Customer(CRMRecord):
    customer_code = models.CharField(max_length=20, unique=True, editable=False)
    company_name = models.CharField(max_length=200)
    industry = models.CharField(max_length=100, blank=True)
    contact_person = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    website = models.URLField(max_length=300, blank=True)
    address = models.TextField(blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    credit_rating = models.CharField(max_length=16, choices=CreditRating.choices, blank=True)
    payment_terms = models.CharField(max_length=100, blank=True)
    annual_spend = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    order_frequency = models.CharField(max_length=16, choices=OrderFrequency.choices, blank=True)
    account_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_customers",
    )
    is_active = models.BooleanField(default=True)
    # The latest communication about this customer; kept by the communication service.
    last_contacted_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    # Duplicate matching keys (crm_project/core/matching.py), kept by the customer services.
    match_company_name = models.CharField(max_length=200, blank=True, default="", editable=False)
    match_email_domain = models.CharField(max_length=254, blank=True, default="", editable=False)
    match_phone = models.CharField(max_length=10, blank=True, default="", editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(annual_spend__gte=0),
                name="customer_annual_spend_non_negative",
                violation_error_message="Annual spend cannot be negative.",
            ),
        ]
        indexes = [
            models.Index(fields=["created_at", "id"], name="customer_created_idx"),
            models.Index(fields=["is_active", "created_at"], name="customer_active_created_idx"),
            models.Index(fields=["credit_rating", "created_at"], name="customer_rating_created_idx"),
            models.Index(fields=["order_frequency", "created_at"], name="customer_freq_created_idx"),
            models.Index(fields=["country", "created_at"], name="customer_country_created_idx"),
            models.Index(fields=["last_contacted_at"], name="customer_last_contacted_idx"),
            models.Index(fields=["annual_spend"], name="customer_annual_spend_idx"),
            # Duplicate look-ups and find_duplicates' self-joins; records without a key are left
            # out. The company name's trigram index is in the match_keys migration (PostgreSQL only).
            models.Index(Lower("email"), condition=~Q(email=""), name="customer_email_lower_idx"),
            models.Index(fields=["match_phone"], condition=~Q(match_phone=""), name="customer_match_phone_idx"),
            models.Index(
                fields=["match_email_domain"], condition=~Q(match_email_domain=""), name="customer_match_domain_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer_code} {self.company_name}"
