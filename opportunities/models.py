"""Sales opportunities: a deal with a customer moving through the pipeline to won or lost."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from crm_project.core.models import CRMRecord
from crm_project.core.text import day_and_time, person_name


class OpportunityStage(models.TextChoices):
    PROSPECTING = "prospecting", "Prospecting"
    QUALIFICATION = "qualification", "Qualification"
    NEEDS_ANALYSIS = "needs_analysis", "Needs analysis"
    PROPOSAL = "proposal", "Proposal"
    NEGOTIATION = "negotiation", "Negotiation"
    CLOSED_WON = "closed_won", "Closed won"
    CLOSED_LOST = "closed_lost", "Closed lost"


CLOSED_STAGES = frozenset({OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST})
OPEN_STAGES = tuple(stage for stage in OpportunityStage if stage not in CLOSED_STAGES)
# Probability that closing sets: a won deal is certain, a lost one is gone.
CLOSING_PROBABILITY = {OpportunityStage.CLOSED_WON: 100, OpportunityStage.CLOSED_LOST: 0}


class ForecastCategory(models.TextChoices):
    PIPELINE = "pipeline", "Pipeline"
    BEST_CASE = "best_case", "Best case"
    COMMIT = "commit", "Commit"
    CLOSED = "closed", "Closed"
    OMITTED = "omitted", "Omitted"


# The category each stage implies, until an owner or manager chooses one (and again on closing).
STAGE_FORECAST_CATEGORY = {
    OpportunityStage.PROSPECTING: ForecastCategory.PIPELINE,
    OpportunityStage.QUALIFICATION: ForecastCategory.PIPELINE,
    OpportunityStage.NEEDS_ANALYSIS: ForecastCategory.PIPELINE,
    OpportunityStage.PROPOSAL: ForecastCategory.BEST_CASE,
    OpportunityStage.NEGOTIATION: ForecastCategory.COMMIT,
    OpportunityStage.CLOSED_WON: ForecastCategory.CLOSED,
    OpportunityStage.CLOSED_LOST: ForecastCategory.OMITTED,
}
# What an owner or manager may choose for an open opportunity: "closed" belongs to won deals.
CHOOSABLE_FORECAST_CATEGORIES = tuple(c for c in ForecastCategory if c != ForecastCategory.CLOSED)


def compute_expected_revenue(estimated_value: Decimal, probability: int) -> Decimal:
    """estimated_value × probability / 100, rounded half up to 2 places; stored, recomputed on each change."""
    value = Decimal(estimated_value) * Decimal(probability) / Decimal(100)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class Opportunity(CRMRecord):
    opportunity_number = models.CharField(max_length=24, unique=True, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        # Deleting a customer with deals is refused: the pipeline history stays whole.
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    lead = models.ForeignKey(
        "leads.Lead", null=True, blank=True, on_delete=models.SET_NULL, related_name="opportunities"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_opportunities",
        db_index=False,  # opp_owner_created_idx starts with it
    )
    estimated_value = models.DecimalField(max_digits=14, decimal_places=2)
    probability = models.SmallIntegerField(default=10)
    # Stored so the pipeline's weighted value is a plain SUM; the services recompute it
    # whenever value or probability change.
    expected_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0, editable=False)
    expected_close_date = models.DateTimeField(null=True, blank=True)
    actual_close_date = models.DateTimeField(null=True, blank=True, editable=False)
    stage = models.CharField(max_length=20, choices=OpportunityStage.choices, default=OpportunityStage.PROSPECTING)
    forecast_category = models.CharField(
        max_length=20, choices=ForecastCategory.choices, default=ForecastCategory.PIPELINE
    )
    # True once an owner or manager chose the category: later stage moves keep it, and closing
    # sets it from the outcome again (and clears this).
    forecast_category_chosen = models.BooleanField(default=False, editable=False)
    next_step = models.CharField(max_length=300, blank=True)
    next_step_date = models.DateTimeField(null=True, blank=True)
    products_interested = models.JSONField(default=dict, blank=True)
    loss_reason = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "opportunities"
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__gte=0, probability__lte=100),
                name="opportunity_probability_0_100",
                violation_error_message="Probability must be between 0 and 100.",
            ),
            models.CheckConstraint(
                condition=Q(estimated_value__gte=0),
                name="opportunity_value_non_negative",
                violation_error_message="Estimated value cannot be negative.",
            ),
            models.CheckConstraint(
                condition=~Q(stage=OpportunityStage.CLOSED_LOST) | ~Q(loss_reason=""),
                name="opportunity_lost_has_reason",
                violation_error_message="A loss reason is required when closing as lost.",
            ),
            models.CheckConstraint(
                condition=~Q(stage__in=[OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST])
                | Q(actual_close_date__isnull=False),
                name="opportunity_closed_has_close_date",
                violation_error_message="A closed opportunity must have its close date.",
            ),
            # Won is "closed", lost is "omitted", and an open deal is never "closed".
            models.CheckConstraint(
                condition=(Q(stage=OpportunityStage.CLOSED_WON) & Q(forecast_category=ForecastCategory.CLOSED))
                | (Q(stage=OpportunityStage.CLOSED_LOST) & Q(forecast_category=ForecastCategory.OMITTED))
                | (
                    ~Q(stage__in=[OpportunityStage.CLOSED_WON, OpportunityStage.CLOSED_LOST])
                    & ~Q(forecast_category=ForecastCategory.CLOSED)
                ),
                name="opportunity_forecast_category_matches_stage",
                violation_error_message=(
                    "The forecast category is closed for a won opportunity, omitted for a lost one, "
                    "and never closed for an open one."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["created_at", "id"], name="opp_created_idx"),
            models.Index(fields=["stage", "created_at"], name="opp_stage_created_idx"),
            # With the id: a rep's opportunity ids from the index alone (see leads).
            models.Index(fields=["owner", "created_at", "id"], name="opp_owner_created_id_idx"),
            models.Index(fields=["customer", "created_at"], name="opp_customer_created_idx"),
            models.Index(fields=["estimated_value"], name="opp_value_idx"),
            # Everything the pipeline statistics read (opportunities.selectors._stage_totals):
            # they scan this index alone, a fraction of the table's size.
            models.Index(fields=["owner", "stage", "estimated_value", "expected_revenue"], name="opp_pipeline_idx"),
            models.Index(fields=["expected_close_date"], name="opp_expected_close_idx"),
            # Everything the forecast reads (opportunities.selectors.forecast), so that it scans
            # these partial indexes alone: the open deals by expected close, the won by close.
            # Measured at 1,000,000 opportunities: 12 months of the team's forecast 290 → 48 ms.
            models.Index(
                fields=["expected_close_date", "owner", "forecast_category", "estimated_value", "expected_revenue"],
                condition=Q(stage__in=sorted(OPEN_STAGES)),
                name="opp_forecast_open_idx",
            ),
            models.Index(
                fields=["actual_close_date", "owner", "estimated_value"],
                condition=Q(stage=OpportunityStage.CLOSED_WON),
                name="opp_forecast_won_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_number} {self.name}"

    @property
    def is_closed(self) -> bool:
        return self.stage in CLOSED_STAGES

    @property
    def is_won(self) -> bool:
        return self.stage == OpportunityStage.CLOSED_WON


class OpportunityStageChange(models.Model):
    """One row per stage an opportunity enters (creation and closing included): its stage history."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    # Blank for the row written when the opportunity is created.
    from_stage = models.CharField(max_length=20, choices=OpportunityStage.choices, blank=True)
    to_stage = models.CharField(max_length=20, choices=OpportunityStage.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField()
    estimated_value = models.DecimalField(max_digits=14, decimal_places=2)
    probability = models.SmallIntegerField()
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["changed_at", "id"]
        indexes = [models.Index(fields=["opportunity", "changed_at"], name="opp_stage_change_idx")]

    def __str__(self) -> str:
        """``15 Dec 2025 10:30 · Meera Manager · Proposal → Negotiation``."""
        when = day_and_time(self.changed_at) if self.changed_at else "not yet"
        return f"{when} · {self.changed_by_name} · {self.change_in_words}"

    @property
    def change_in_words(self) -> str:
        """``Proposal → Negotiation``, or ``Created in Prospecting`` for the first row."""
        if not self.from_stage:
            return f"Created in {self.get_to_stage_display()}"
        return f"{self.get_from_stage_display()} → {self.get_to_stage_display()}"

    @property
    def changed_by_name(self) -> str:
        """Who made the change; ``system`` for a change nobody made (an import, a script)."""
        return person_name(self.changed_by) if self.changed_by_id else "system"


class Quota(CRMRecord):
    """A user's sales target for one calendar month."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quotas")
    period_start = models.DateField(help_text="The first day of the month.")
    amount = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["period_start", "user_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "period_start"],
                name="quota_one_per_user_and_month",
                violation_error_message="This user already has a quota for this month.",
            ),
            models.CheckConstraint(
                condition=Q(period_start__day=1),
                name="quota_period_starts_a_month",
                violation_error_message="A quota's period_start is the first day of a month.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="quota_amount_non_negative",
                violation_error_message="A quota cannot be negative.",
            ),
        ]
        indexes = [models.Index(fields=["period_start", "user"], name="quota_period_user_idx")]

    def __str__(self) -> str:
        return f"{person_name(self.user)} · {self.period_start:%Y-%m} · {self.amount}"


class ForecastSnapshot(models.Model):
    """
    The forecast figures of one owner (or of the unowned opportunities) for one month, as they
    stood on ``day``: written daily by ``forecast_snapshot_take``, so a past period shows its
    forecast against what was won. A day's team row (owner null) exists for every month taken,
    so "was a snapshot taken that day" is a question about rows, even when the figures are zero.
    """

    day = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    period_start = models.DateField()
    quota = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    closed_won = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    commit = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    best_case = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    pipeline = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    weighted = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    class Meta:
        ordering = ["day", "period_start", "owner_id"]
        constraints = [
            # One snapshot a day: a second run of the day's task writes nothing more.
            models.UniqueConstraint(
                fields=["day", "owner", "period_start"],
                condition=Q(owner__isnull=False),
                name="forecast_snapshot_one_per_owner_day_month",
                violation_error_message="This day's snapshot of this owner and month is taken.",
            ),
            models.UniqueConstraint(
                fields=["day", "period_start"],
                condition=Q(owner__isnull=True),
                name="forecast_snapshot_one_unowned_per_day_month",
                violation_error_message="This day's snapshot of the unowned opportunities and month is taken.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} · {self.period_start:%Y-%m} · {self.owner_id or 'unowned'}"
