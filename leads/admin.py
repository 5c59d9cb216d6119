"""
The lead admin for sales staff. Every save, delete and action goes through the lead services;
the queryset is the visibility rule, so a rep sees and works only their own and unassigned
leads. A rep can take a lead from new to converted here: "Qualify" and "Convert" buttons on
the change page open a small form each; a converted lead is read-only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth import get_user_model
from django.db import models
from django.urls import path, reverse
from django.utils.html import format_html

from crm_project.core.admin import (
    SERVICE_REFUSALS,
    ObjectActionsMixin,
    ServiceModelAdmin,
    badge,
    error_message,
    short_date,
    truncated,
)
from crm_project.core.matching import MatchProbe
from crm_project.core.roles import is_manager
from crm_project.core.text import person_name, plural
from customers.selectors import customer_list_visible_to

from . import services
from .models import UPDATABLE_STATUSES, Lead, LeadStatus
from .selectors import lead_assignable_users, lead_duplicates, lead_follow_ups_due_today, lead_list_visible_to


class AssignedToFilter(admin.SimpleListFilter):
    """Me, unassigned, or one of the sales staff (one small query, whatever the number of leads)."""

    title = "assigned to"
    parameter_name = "assigned_to"

    def lookups(self, request, model_admin):
        choices = [("me", "Me"), ("none", "Unassigned")]
        if is_manager(request.user):
            choices += [
                (str(user.pk), person_name(user))
                for user in lead_assignable_users(request.user).exclude(pk=request.user.pk)
            ]
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(assigned_to=request.user)
        if value == "none":
            return queryset.filter(assigned_to__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assigned_to_id=int(value))
        return queryset


class QualifiedFilter(admin.BooleanFieldListFilter):
    """``is_qualified`` titled "qualified" (not "is qualified")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "qualified"


class FollowUpDueFilter(admin.SimpleListFilter):
    """Open leads whose follow-up is due, by the rule of the API's today's follow-ups."""

    title = "follow-up"
    parameter_name = "follow_up"

    def lookups(self, request, model_admin):
        return [("today", "Due today"), ("due", "Due today or overdue")]

    def queryset(self, request, queryset):
        if self.value() not in ("today", "due"):
            return queryset
        due = lead_follow_ups_due_today(request.user, include_overdue=self.value() == "due")
        return queryset.filter(pk__in=due.values("pk"))


class LeadQualifyForm(forms.Form):
    qualification_score = forms.IntegerField(min_value=0, max_value=100, label="Qualification score (0–100)")
    is_qualified = forms.BooleanField(
        required=False, initial=True, label="Qualified", help_text="Untick to withdraw a qualification."
    )
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Appended to the notes, dated and signed."
    )


class LeadConvertForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=None)  # Built per request in __init__.
    notes = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Appended to the notes, dated and signed."
    )

    def __init__(self, *args, request, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["customer"] = forms.ModelChoiceField(
            queryset=customer_list_visible_to(request.user).prefetch_related(None),
            required=False,
            # Searches the customer admin as one types (there may be thousands of customers).
            widget=AutocompleteSelect(Lead._meta.get_field("converted_customer"), admin_site),
            help_text="An existing customer; leave empty to create one from the lead's company and contact.",
        )


@admin.register(Lead)
class LeadAdmin(ObjectActionsMixin, ServiceModelAdmin):
    duplicate_number_field = "lead_number"
    # Its communications are added by that app (``add_inline``).
    # What a rep works the list by, narrow enough for a 1366 px laptop with the filters shown:
    # long names are cut (whole on hover), dates are short.
    list_display = [
        "lead_number",
        "company",
        "contact",
        "status_badge",
        "priority_badge",
        "assignee",
        "follow_up",
        "created",
    ]
    list_filter = [
        "status",
        "priority",
        AssignedToFilter,
        FollowUpDueFilter,
        "source",
        ("is_qualified", QualifiedFilter),
    ]
    search_fields = ["lead_number", "company_name", "contact_person", "email"]
    list_select_related = ["assigned_to"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "lead_number",
        "qualification_score",
        "is_qualified",
        "qualified_at",
        "last_contacted_at",
        "converted_customer_link",
        "converted_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["lead_number", "status", "priority", "source", "assigned_to", "next_follow_up_date"]}),
        ("Company", {"fields": ["company_name", "industry", "company_size", "website", "city", "state", "country"]}),
        ("Contact", {"fields": ["contact_person", "title_position", "email", "phone"]}),
        ("Deal", {"fields": ["estimated_deal_value", "requirements", "notes"]}),
        ("Qualification", {"fields": ["qualification_score", "is_qualified", "qualified_at"]}),
        (
            "History",
            {
                "fields": [
                    "last_contacted_at",
                    "converted_customer_link",
                    "converted_at",
                    "created_by",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]
    actions = ["mark_contacted", "mark_lost", "assign_to_me"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    # --- the bridge to the services ----------------------------------------------------------

    def visible_queryset(self, request):
        return lead_list_visible_to(request.user)

    def find_duplicates(self, request, obj):
        return lead_duplicates(request.user, probe=MatchProbe.of_record(obj), exclude_pk=obj.pk)

    def create_record(self, request, data):
        return services.lead_create(actor=request.user, data=data)

    def update_record(self, request, obj, data):
        return services.lead_update(actor=request.user, lead=obj, data=data)

    def delete_record(self, request, obj):
        services.lead_delete(actor=request.user, lead=obj)

    # --- forms ---------------------------------------------------------------------------------

    def has_change_permission(self, request, obj=None):
        # A converted lead is final: the admin shows it read-only.
        if obj is not None and not obj.can_be_updated():
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        # A new lead is always "new"; its status changes once it exists.
        return [*fields, "status"] if obj is None else fields

    def get_autocomplete_fields(self, request):
        # The user search needs the user admin's view permission, which sales staff lack;
        # they get a short select of the people they may assign to instead.
        user_admin = self.admin_site._registry.get(get_user_model())
        if user_admin is not None and user_admin.has_view_permission(request):
            return ["assigned_to"]
        return []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_to":
            kwargs["queryset"] = lead_assignable_users(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "status" in form.base_fields:
            # Offer only what an update may set (qualify and convert have their own buttons).
            form.base_fields["status"].choices = [
                (value, label)
                for value, label in LeadStatus.choices
                if value in UPDATABLE_STATUSES or value == obj.status
            ]
        return form

    # --- the list's columns --------------------------------------------------------------------

    @admin.display(description="company", ordering="company_name")
    def company(self, obj):
        return truncated(obj.company_name)

    @admin.display(description="contact", ordering="contact_person")
    def contact(self, obj):
        return truncated(obj.contact_person)

    @admin.display(description="status", ordering="status")
    def status_badge(self, obj):
        return badge(obj.status, obj.get_status_display())

    @admin.display(description="priority", ordering="priority")
    def priority_badge(self, obj):
        return badge(obj.priority, obj.get_priority_display())

    @admin.display(description="assigned to", ordering="assigned_to")
    def assignee(self, obj):
        return truncated(person_name(obj.assigned_to)) if obj.assigned_to else "-"

    @admin.display(description="follow-up", ordering="next_follow_up_date")
    def follow_up(self, obj):
        return short_date(obj.next_follow_up_date)

    @admin.display(description="created", ordering="created_at")
    def created(self, obj):
        return short_date(obj.created_at)

    @admin.display(description="Converted customer")
    def converted_customer_link(self, obj):
        customer = obj.converted_customer
        if customer is None:
            return "-"
        url = reverse("admin:customers_customer_change", args=[customer.pk])
        return format_html('<a href="{}">{}</a>', url, customer)

    # --- qualify and convert: buttons on the change page --------------------------------------

    def get_urls(self):
        def wrap(view):
            return self.admin_site.admin_view(view)

        return [
            path("<path:object_id>/qualify/", wrap(self.qualify_view), name="leads_lead_qualify"),
            path("<path:object_id>/convert/", wrap(self.convert_view), name="leads_lead_convert"),
            *super().get_urls(),
        ]

    def object_buttons(self, request, lead):
        buttons = []
        if lead.can_be_qualified():
            buttons.append(("Qualify", reverse("admin:leads_lead_qualify", args=[lead.pk])))
        if lead.can_be_converted():
            buttons.append(("Convert to customer", reverse("admin:leads_lead_convert", args=[lead.pk])))
        return buttons

    def qualify_view(self, request, object_id):
        def qualify(lead, data):
            lead = services.lead_qualify(actor=request.user, lead=lead, **data)
            outcome = "qualified" if lead.is_qualified else "not qualified"
            return f"{lead.lead_number} is {outcome} (score {lead.qualification_score})."

        return self.object_action_view(
            request,
            object_id,
            title="Qualify",
            submit_label="Save qualification",
            form=lambda lead, data: LeadQualifyForm(data, initial={"qualification_score": lead.qualification_score}),
            perform=qualify,
        )

    def convert_view(self, request, object_id):
        def convert(lead, data):
            lead = services.lead_convert(actor=request.user, lead=lead, **data)
            return f"{lead.lead_number} converted into {lead.converted_customer}."

        return self.object_action_view(
            request,
            object_id,
            title="Convert",
            submit_label="Convert",
            form=lambda lead, data: LeadConvertForm(data, request=request, admin_site=self.admin_site),
            perform=convert,
        )

    # --- bulk actions --------------------------------------------------------------------------

    def _apply(self, request, queryset, operation, done: str) -> None:
        changed, refused = 0, []
        for lead in queryset:
            try:
                operation(lead)
            except SERVICE_REFUSALS as exc:
                refused.append(f"{lead.lead_number}: {error_message(exc)}")
            else:
                changed += 1
        if changed:
            self.message_user(request, f"{plural(changed, 'lead')} {done}.", level=messages.SUCCESS)
        if refused:
            self.message_user(request, "Not changed: " + " ".join(refused), level=messages.WARNING)

    @admin.action(description="Mark selected leads contacted", permissions=["change"])
    def mark_contacted(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda lead: services.lead_mark_contacted(actor=request.user, lead=lead),
            "marked contacted",
        )

    @admin.action(description="Mark selected leads lost", permissions=["change"])
    def mark_lost(self, request, queryset):
        self._apply(
            request, queryset, lambda lead: services.lead_mark_lost(actor=request.user, lead=lead), "marked lost"
        )

    @admin.action(description="Assign selected leads to me", permissions=["change"])
    def assign_to_me(self, request, queryset):
        self._apply(
            request,
            queryset,
            lambda lead: services.lead_assign(actor=request.user, lead=lead, assignee=request.user),
            "assigned to you",
        )
