from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"

    def ready(self) -> None:
        # The background jobs this app owns: the lead import and the lead export.
        from . import jobs

        jobs.register_jobs()
