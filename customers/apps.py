from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        from crm_project.core.webhooks.events import register_renderer

        from .api.serializers import webhook_data

        # What this app's records look like in webhook events.
        register_renderer("customer", webhook_data)
        # The background jobs this app owns: the list's export.
        from . import jobs

        jobs.register_jobs()
