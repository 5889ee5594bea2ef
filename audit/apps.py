from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from . import chain, checks, signals  # noqa: F401
        from .models import AuditEntry
        from .services import CHAIN_LOCK_KEY

        # The audit log is the first chain: writers of several chains lock it first.
        chain.register(
            chain.Chain("audit", "audit log", AuditEntry, CHAIN_LOCK_KEY, lambda entry: entry.chain_content())
        )
        checks.register()
        post_migrate.connect(seal_after_migrate, sender=self, dispatch_uid="audit-seal-unkeyed")


def seal_after_migrate(using: str = "default", **kwargs) -> None:
    """After an upgrade's migrations, fix the entries written before the chains were keyed (once)."""
    import contextlib

    from django.core.exceptions import ImproperlyConfigured

    from . import chain

    with contextlib.suppress(ImproperlyConfigured):  # no usable key yet: the first keyed write does it
        chain.seal_unkeyed_entries()
