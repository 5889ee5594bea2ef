from django.apps import AppConfig


class BenchConfig(AppConfig):
    """The benchmark harness, installed only for its `generate_synthetic` command (no models, no URLs)."""

    name = "bench"
    verbose_name = "Benchmarks"
