from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

CUSTODY_CHAIN_LOCK_KEY = 727_274_003  # the PostgreSQL advisory lock serialising custody writers


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = _("Evidence")

    def ready(self) -> None:
        from audit import chain
        from incidents import workflow

        from . import checks, schema, services  # noqa: F401 - schema registers the OpenAPI extension
        from .models import CustodyEvent, MediaItem, Source, Testimony

        # The chain of custody is a keyed hash chain of its own, verified with the audit log.
        chain.register(
            chain.Chain(
                "custody", "chain of custody", CustodyEvent, CUSTODY_CHAIN_LOCK_KEY, lambda e: e.chain_content()
            )
        )

        # Testimony, media items and documented sources are reviewed like incidents, and count as
        # the approved evidence an incident needs before it can be approved.
        workflow.register_kind(Testimony, "testimonies")
        workflow.register_kind(MediaItem, "media")
        workflow.register_kind(Source, "sources")
        workflow.register_evidence_counter(services.approved_evidence_count)
        checks.register()

        # The incident and review pages show an incident's testimony and media (evidence/views.py).
        from incidents import views as incident_views

        from .views import evidence_for_incident

        incident_views.register_evidence_provider(evidence_for_incident)

        # A sealed original whose transaction rolled back is removed once the request or task ends.
        from celery.signals import task_postrun
        from django.core.signals import request_finished

        from .media import discard_unrecorded_originals

        request_finished.connect(discard_unrecorded_originals, dispatch_uid="evidence-unrecorded-originals")
        task_postrun.connect(discard_unrecorded_originals, dispatch_uid="evidence-unrecorded-originals", weak=False)
