from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "segments"
    verbose_name = "Segments"

    def ready(self) -> None:
        # Receivers that keep Segment.customer_count true; connected here, explicitly.
        from crm_project.core.schedules import register_default

        from . import jobs, schedules, signals

        signals.connect()
        # The background job this app owns: the nightly refresh of auto-refreshed segments.
        jobs.register_jobs()
        register_default(schedules.NIGHTLY_REFRESH)
