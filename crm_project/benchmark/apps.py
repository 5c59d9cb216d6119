from django.apps import AppConfig


class BenchmarkConfig(AppConfig):
    """
    The benchmark's tools: ``manage.py bench_data`` (a million-row data set, which can wipe the
    database with ``--reset``) and the raw-SQL floor endpoint at ``/bench/``. Installed only when
    ``CRM_BENCHMARK`` is on, so neither exists in production.
    """

    name = "crm_project.benchmark"
    label = "benchmark"
    verbose_name = "Benchmark"
