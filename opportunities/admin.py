"""
Opportunities in the admin. Saves, deletes and closes go through the services; a closed
opportunity is read-only here. Closing asks for the details (the loss reason when lost) on a
page of its own: from the "Close as won" / "Close as lost" buttons of an opportunity's page,
or from the changelist's actions for several at once.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from crm_project.core.admin import (
    SERVICE_REFUSALS,
    ObjectActionsMixin,
    ServiceModelAdmin,
    badge,
    error_message,
    money,
    short_date,
    truncated,
)
from crm_project.core.text import day_and_time, person_name
from customers.selectors import customer_list_visible_to
from leads.models import Lead
from leads.selectors import lead_list_visible_to

from . import services
from .models import (
    CHOOSABLE_FORECAST_CATEGORIES,
    OPEN_STAGES,
    ForecastSnapshot,
    Opportunity,
    OpportunityStage,
    OpportunityStageChange,
    Quota,
)
from .selectors import opportunity_list_visible_to, quota_list_visible_to


class OpportunityAdminForm(forms.ModelForm):
    class Meta:
        model = Opportunity
        fields = [
            "name",
            "description",
            "customer",
            "lead",
            "owner",
            "stage",
            "forecast_category",
            "estimated_value",
            "probability",
            "expected_close_date",
            "next_step",
            "next_step_date",
            "products_interested",
            "notes",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "stage" in self.fields:
            # Closing has its own actions (which ask for the loss reason); the service
            # refuses closed stages here anyway, this only keeps them out of the menu.
            self.fields["stage"].choices = [(stage.value, stage.label) for stage in OPEN_STAGES]
        if "forecast_category" in self.fields:
            # Blank follows the stage; a category picked here sticks through stage moves until
            # closing (the service's rule). "Closed" belongs to won deals: closing sets it.
            field = self.fields["forecast_category"]
            field.required = False
            field.choices = [("", "Follow the stage"), *((c.value, c.label) for c in CHOOSABLE_FORECAST_CATEGORIES)]
            if self.instance.pk is None:
                self.initial["forecast_category"] = ""

    def clean_products_interested(self):
        # An empty box means "nothing noted yet", stored as the field's default, not JSON null.
        value = self.cleaned_data.get("products_interested")
        return {} if value is None else value


class OpportunityCloseForm(forms.Form):
    """The intermediate page of "Close as won" / "Close as lost"."""

    actual_close_date = forms.SplitDateTimeField(
        required=False,
        widget=admin.widgets.AdminSplitDateTime,
        help_text="Leave empty for now.",
    )
    loss_reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 60}), required=False)
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        help_text="Appended, dated, to each opportunity's notes.",
    )

    def __init__(self, *args, stage: str, **kwargs):
        super().__init__(*args, **kwargs)
        if stage == OpportunityStage.CLOSED_LOST:
            self.fields["loss_reason"].required = True
            self.fields["loss_reason"].help_text = "Why the deal was lost (required)."
        else:
            del self.fields["loss_reason"]


class OpportunityStageChangeInline(admin.TabularInline):
    """The stage history, as written by the services, in words: read-only."""

    model = OpportunityStageChange
    extra = 0
    can_delete = False
    fields = ["when", "by", "change", "value", "probability_percent", "notes"]
    readonly_fields = fields
    ordering = ["changed_at", "id"]
    verbose_name_plural = "Stage history"
    # The columns say what each row is; no caption above it repeating them (admin.css).
    classes = ["crm-stage-history"]

    @admin.display(description="when")
    def when(self, change):
        return day_and_time(change.changed_at)

    @admin.display(description="by")
    def by(self, change):
        return change.changed_by_name

    @admin.display(description="stage")
    def change(self, change):
        return change.change_in_words

    @admin.display(description="value")
    def value(self, change):
        return money(change.estimated_value)

    @admin.display(description="probability")
    def probability_percent(self, change):
        return f"{change.probability}%"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("changed_by")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Opportunity)
class OpportunityAdmin(ObjectActionsMixin, ServiceModelAdmin):
    form = OpportunityAdminForm
    # The pipeline at a glance, narrow enough for a 1366 px laptop with the filters shown: long
    # names are cut (whole on hover); the money columns and the close date are never cut.
    list_display = [
        "opportunity_number",
        "deal",
        "customer_name",
        "stage_badge",
        "value",
        "weighted_value",
        "owner_name",
        "close_date",
    ]
    list_display_links = ["opportunity_number", "deal"]
    list_filter = ["stage", "forecast_category", "owner", "expected_close_date", "actual_close_date", "created_at"]
    list_select_related = ["customer", "owner"]
    search_fields = ["opportunity_number", "name", "description", "customer__company_name"]
    # "lead" joins these when the leads admin offers autocomplete (see get_autocomplete_fields).
    autocomplete_fields = ["customer", "owner"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "opportunity_number",
        "expected_revenue",
        "actual_close_date",
        "loss_reason",
        "created_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["opportunity_number", "name", "description", "customer", "lead", "owner"]}),
        (
            "Pipeline",
            {
                "fields": [
                    "stage",
                    "forecast_category",
                    "estimated_value",
                    "probability",
                    "expected_revenue",
                    "expected_close_date",
                ]
            },
        ),
        ("Next step", {"fields": ["next_step", "next_step_date", "products_interested", "notes"]}),
        ("Outcome", {"fields": ["actual_close_date", "loss_reason"]}),
        ("History", {"fields": ["created_by", "created_at", "updated_at"]}),
    ]
    # Its communications are added by that app (``add_inline``).
    inlines = [OpportunityStageChangeInline]
    actions = ["close_as_won", "close_as_lost"]
    close_template = "admin/opportunities/opportunity/close_selected.html"

    # --- the services ---------------------------------------------------------------------

    def visible_queryset(self, request):
        return opportunity_list_visible_to(request.user)

    def create_record(self, request, data):
        return services.opportunity_create(actor=request.user, data=data)

    def update_record(self, request, obj, data):
        return services.opportunity_update(actor=request.user, opportunity=obj, data=data)

    def delete_record(self, request, obj):
        services.opportunity_delete(actor=request.user, opportunity=obj)

    # --- what the form offers ---------------------------------------------------------------

    def has_change_permission(self, request, obj=None):
        # A closed opportunity is final: the admin shows it read-only.
        if obj is not None and obj.is_closed:
            return False
        return super().has_change_permission(request, obj)

    def get_autocomplete_fields(self, request):
        # Autocomplete needs the leads admin registered with search fields; until then the
        # lead is an ordinary select (still limited to the leads this user may see).
        lead_admin = self.admin_site._registry.get(Lead)
        if lead_admin is not None and lead_admin.search_fields:
            return [*self.autocomplete_fields, "lead"]
        return self.autocomplete_fields

    def get_changeform_initial_data(self, request):
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Related choices follow the same visibility rules as the API.
        if db_field.name == "customer":
            kwargs["queryset"] = customer_list_visible_to(request.user).prefetch_related(None)
        elif db_field.name == "lead":
            kwargs["queryset"] = lead_list_visible_to(request.user)
        elif db_field.name == "owner":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="stage", ordering="stage")
    def stage_badge(self, obj):
        return badge(obj.stage, obj.get_stage_display())

    @admin.display(description="name", ordering="name")
    def deal(self, obj):
        return truncated(obj.name)

    @admin.display(description="customer", ordering="customer__company_name")
    def customer_name(self, obj):
        return truncated(obj.customer.company_name)

    @admin.display(description="value", ordering="estimated_value")
    def value(self, obj):
        return money(obj.estimated_value)

    @admin.display(description="weighted", ordering="expected_revenue")
    def weighted_value(self, obj):
        # The probability it is weighted by, on hover: a column of its own would not fit.
        return format_html(
            '<span title="{}% of {}">{}</span>',
            obj.probability,
            money(obj.estimated_value),
            money(obj.expected_revenue),
        )

    @admin.display(description="owner", ordering="owner")
    def owner_name(self, obj):
        return truncated(person_name(obj.owner)) if obj.owner else "-"

    @admin.display(description="close date", ordering="expected_close_date")
    def close_date(self, obj):
        return short_date(obj.expected_close_date)

    # --- closing one: buttons on the change page ---------------------------------------------

    CLOSE_PATHS = {"won": OpportunityStage.CLOSED_WON, "lost": OpportunityStage.CLOSED_LOST}

    def get_urls(self):
        return [
            path(
                "<path:object_id>/close/<str:outcome>/",
                self.admin_site.admin_view(self.close_view),
                name="opportunities_opportunity_close",
            ),
            *super().get_urls(),
        ]

    def object_buttons(self, request, opportunity):
        return [
            (f"Close as {outcome}", reverse("admin:opportunities_opportunity_close", args=[opportunity.pk, outcome]))
            for outcome in self.CLOSE_PATHS
        ]

    def close_view(self, request, object_id, outcome):
        if outcome not in self.CLOSE_PATHS:  # Not a page: the admin's usual answer.
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        stage = self.CLOSE_PATHS[outcome]

        def close(opportunity, data):
            opportunity = services.opportunity_close(actor=request.user, opportunity=opportunity, stage=stage, **data)
            return f"{opportunity.opportunity_number} is {opportunity.get_stage_display().lower()}."

        def intro(opportunity):
            return (
                f"{opportunity.name} for {opportunity.customer.company_name}, worth "
                f"{opportunity.estimated_value:,.2f}, now in {opportunity.get_stage_display().lower()}. "
                "Closing is final: the opportunity becomes read-only."
            )

        return self.object_action_view(
            request,
            object_id,
            title=f"Close as {outcome}",
            submit_label=f"Close as {outcome}",
            form=lambda opportunity, data: OpportunityCloseForm(data, stage=stage),
            perform=close,
            intro=intro,
        )

    # --- closing several: changelist actions ------------------------------------------------------

    @admin.action(description="Close selected opportunities as won", permissions=["change"])
    def close_as_won(self, request, queryset):
        return self._close_selected(request, queryset, OpportunityStage.CLOSED_WON)

    @admin.action(description="Close selected opportunities as lost", permissions=["change"])
    def close_as_lost(self, request, queryset):
        return self._close_selected(request, queryset, OpportunityStage.CLOSED_LOST)

    def _close_selected(self, request, queryset, stage: str):
        """First an intermediate page asking for the details, then one service call each."""
        confirmed = request.POST.get("confirm") == "yes"
        form = OpportunityCloseForm(request.POST if confirmed else None, stage=stage)
        if confirmed and form.is_valid():
            closed, refused = [], []
            for opportunity in queryset:
                try:
                    services.opportunity_close(
                        actor=request.user,
                        opportunity=opportunity,
                        stage=stage,
                        actual_close_date=form.cleaned_data["actual_close_date"],
                        loss_reason=form.cleaned_data.get("loss_reason", ""),
                        notes=form.cleaned_data["notes"],
                    )
                    closed.append(opportunity.opportunity_number)
                except SERVICE_REFUSALS as exc:
                    refused.append(f"{opportunity.opportunity_number}: {error_message(exc)}")
            label = OpportunityStage(stage).label.lower()
            if closed:
                self.message_user(request, f"{label.capitalize()}: {', '.join(closed)}.", messages.SUCCESS)
            if refused:
                self.message_user(request, f"Not {label}: {' '.join(refused)}", messages.ERROR)
            return None  # Back to the changelist.

        context = {
            **self.admin_site.each_context(request),
            "title": f"{OpportunityStage(stage).label}: {queryset.count()} selected",
            "opts": self.model._meta,
            "queryset": queryset,
            "form": form,
            "action": "close_as_won" if stage == OpportunityStage.CLOSED_WON else "close_as_lost",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "stage_label": OpportunityStage(stage).label,
            "media": self.media + form.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.close_template, context)


class QuotaAdminForm(forms.ModelForm):
    class Meta:
        model = Quota
        fields = ["user", "period_start", "amount"]


@admin.register(Quota)
class QuotaAdmin(ServiceModelAdmin):
    """Monthly targets: managers set them (the services refuse anyone else); reps see their own."""

    form = QuotaAdminForm
    list_display = ["period_start", "user", "amount"]
    list_filter = ["period_start", "user"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]
    date_hierarchy = "period_start"

    def visible_queryset(self, request):
        return quota_list_visible_to(request.user).select_related("user")

    def create_record(self, request, data):
        return services.quota_create(actor=request.user, data=data)

    def update_record(self, request, obj, data):
        return services.quota_update(actor=request.user, quota=obj, data=data)

    def delete_record(self, request, obj):
        services.quota_delete(actor=request.user, quota=obj)


@admin.register(ForecastSnapshot)
class ForecastSnapshotAdmin(admin.ModelAdmin):
    """The daily snapshots, read-only: written by the scheduled task (or manage.py forecast_snapshot)."""

    list_display = [
        "day",
        "period_start",
        "owner",
        "quota",
        "closed_won",
        "commit",
        "best_case",
        "pipeline",
        "weighted",
    ]
    list_filter = ["day", "period_start", "owner"]
    list_select_related = ["owner"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
