from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = "Segments"

    def ready(self) -> None:
        from crm_project.core.webhooks.events import register_renderer

        from .api.serializers import webhook_data

        # What this app's records look like in webhook events.
        register_renderer("segment", webhook_data)
        # Receivers that keep Segment.customer_count true; connected here, explicitly.
        from crm_project.core.schedules import register_default

        from . import jobs, schedules, signals

        signals.connect()
        # The background job this app owns: the nightly refresh of auto-refreshed segments.
        jobs.register_jobs()
        register_default(schedules.NIGHTLY_REFRESH)
