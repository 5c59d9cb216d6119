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
        from crm_project.core.schedules import register_default

        from . import jobs, schedules

        jobs.register_jobs()
        # The daily forecast snapshot (created by migration 0006, kept after a flush).
        register_default(schedules.DAILY_FORECAST_SNAPSHOT)
