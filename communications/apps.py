from django.apps import AppConfig


class CommunicationsConfig(AppConfig):
    name = "communications"
    verbose_name = "Communications"

    def ready(self) -> None:
        from crm_project.core.webhooks.events import register_renderer

        from .api.serializers import webhook_data

        # What this app's records look like in webhook events.
        register_renderer("communication", webhook_data)
        # Communications move with their opportunity; the receiver is connected here, explicitly.
        from crm_project.core.schedules import register_default

        from . import jobs, schedules, signals

        signals.connect()
        # The background job this app owns: a representative's follow-up digest e-mail.
        jobs.register_jobs()
        register_default(schedules.MORNING_DIGEST)
