from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = _("Incidents and victims")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .search import on_connection_created

        # Search's SQL functions on SQLite, and pg_trgm's near-spelling threshold on PostgreSQL.
        connection_created.connect(on_connection_created, dispatch_uid="incidents.search")
