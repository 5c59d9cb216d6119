from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        # The background jobs this app owns: the list's export.
        from . import jobs

        jobs.register_jobs()
