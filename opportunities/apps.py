from django.apps import AppConfig


class OpportunitiesConfig(AppConfig):
    name = "opportunities"
    verbose_name = "Opportunities"

    def ready(self) -> None:
        from crm_project.core.webhooks.events import register_renderer

        from .api.serializers import webhook_data

        # What this app's records look like in webhook events.
        register_renderer("opportunity", webhook_data)
        # The background jobs this app owns: the list's export.
        from . import jobs

        jobs.register_jobs()
