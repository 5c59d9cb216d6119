from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    def ready(self) -> None:
        from crm_project.core.webhooks.events import register_renderer

        from .api.serializers import webhook_data, webhook_data_many

        # What this app's records look like in webhook events.
        register_renderer("lead", webhook_data, webhook_data_many)
        # The background jobs this app owns: the lead import and the lead export.
        from . import jobs

        jobs.register_jobs()
