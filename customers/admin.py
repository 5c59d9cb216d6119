from django.contrib import admin
from django.core.cache import cache

from crm_project.core.admin import ServiceModelAdmin

from . import services
from .models import Customer
from .selectors import customer_list_visible_to


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
    list_display = [
        "customer_code",
        "company_name",
        "contact_person",
        "city",
        "country",
        "credit_rating",
        "annual_spend",
        "account_manager",
        "is_active",
        "last_contacted_at",
    ]
    list_filter = ["is_active", "credit_rating", "order_frequency", CountryFilter]
    search_fields = ["customer_code", "company_name", "contact_person", "email"]
    autocomplete_fields = ["account_manager"]
    list_select_related = ["account_manager"]
    readonly_fields = ["customer_code", "last_contacted_at", "created_at", "updated_at"]
    date_hierarchy = "created_at"
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

    def visible_queryset(self, request):
        return customer_list_visible_to(request.user).prefetch_related(None)

    def create_record(self, request, data):
        return services.customer_create(actor=request.user, data=data)

    def update_record(self, request, obj, data):
        return services.customer_update(actor=request.user, customer=obj, data=data)

    def delete_record(self, request, obj):
        services.customer_delete(actor=request.user, customer=obj)
