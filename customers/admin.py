from django.contrib import admin
from django.core.cache import cache

from crm_project.core.admin import ServiceModelAdmin, money, short_date, truncated
from crm_project.core.matching import MatchProbe
from crm_project.core.text import person_name

from . import services
from .models import Customer
from .selectors import customer_duplicates, customer_list_visible_to


class CountryFilter(admin.SimpleListFilter):
    """
    The countries customers are in. Listing them reads every customer (``SELECT DISTINCT``),
    so the list is kept for a few minutes instead of being rebuilt on every page load.
    """

    title = "country"
    parameter_name = "country"
    CACHE_KEY = "admin:customer-countries"
    CACHE_SECONDS = 600

    def lookups(self, request, model_admin):
        def countries():
            return list(
                Customer.objects.exclude(country="").order_by("country").values_list("country", flat=True).distinct()
            )

        return [(country, country) for country in cache.get_or_set(self.CACHE_KEY, countries, self.CACHE_SECONDS)]

    def queryset(self, request, queryset):
        return queryset.filter(country=self.value()) if self.value() else queryset


@admin.register(Customer)
class CustomerAdmin(ServiceModelAdmin):
    # Narrow enough for a 1366 px laptop with the filters shown: long names are cut (whole on
    # hover), the place is one column, the spend is never cut. "Active" is a filter beside the
    # list.
    list_display = [
        "customer_code",
        "company",
        "contact",
        "place",
        "credit",
        "spend",
        "manager",
        "last_contacted",
    ]
    list_display_links = ["customer_code", "company"]
    list_filter = ["is_active", "credit_rating", "order_frequency", CountryFilter]
    search_fields = ["customer_code", "company_name", "contact_person", "email"]
    autocomplete_fields = ["account_manager"]
    list_select_related = ["account_manager"]
    readonly_fields = ["customer_code", "last_contacted_at", "created_at", "updated_at"]
    date_hierarchy = "created_at"
    duplicate_number_field = "customer_code"
    # Its segments and communications are added by those apps (``add_inline``).
    fieldsets = [
        (None, {"fields": ["customer_code", "company_name", "industry", "is_active"]}),
        ("Contact", {"fields": ["contact_person", "email", "phone", "website"]}),
        ("Address", {"fields": ["address", "city", "state", "country"]}),
        (
            "Commercial",
            {"fields": ["credit_rating", "payment_terms", "annual_spend", "order_frequency", "account_manager"]},
        ),
        ("History", {"fields": ["last_contacted_at", "created_at", "updated_at"]}),
    ]

    @admin.display(description="company", ordering="company_name")
    def company(self, customer):
        return truncated(customer.company_name)

    @admin.display(description="contact", ordering="contact_person")
    def contact(self, customer):
        return truncated(customer.contact_person)

    @admin.display(description="place", ordering="city")
    def place(self, customer):
        return truncated(", ".join(part for part in (customer.city, customer.country) if part))

    @admin.display(description="credit", ordering="credit_rating")
    def credit(self, customer):
        return customer.get_credit_rating_display() or "-"

    @admin.display(description="annual spend", ordering="annual_spend")
    def spend(self, customer):
        return money(customer.annual_spend)

    @admin.display(description="account manager", ordering="account_manager")
    def manager(self, customer):
        user = customer.account_manager
        return truncated(person_name(user)) if user else "-"

    @admin.display(description="last contacted", ordering="last_contacted_at")
    def last_contacted(self, customer):
        return short_date(customer.last_contacted_at)

    def visible_queryset(self, request):
        return customer_list_visible_to(request.user).prefetch_related(None)

    def find_duplicates(self, request, obj):
        return customer_duplicates(request.user, probe=MatchProbe.of_record(obj), exclude_pk=obj.pk)

    def create_record(self, request, data):
        return services.customer_create(actor=request.user, data=data)

    def update_record(self, request, obj, data):
        return services.customer_update(actor=request.user, customer=obj, data=data)

    def delete_record(self, request, obj):
        services.customer_delete(actor=request.user, customer=obj)
