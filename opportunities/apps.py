from django.apps import AppConfig


class OpportunitiesConfig(AppConfig):
    name = "opportunities"
    verbose_name = "Opportunities"

    def ready(self) -> None:
        # The background jobs this app owns: the list's export.
        from . import jobs

        jobs.register_jobs()
