from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = _("Notices")

    def ready(self) -> None:
        from incidents import workflow

        from . import services

        # Every review decision on a record leaves a notice for its author (in the decision's transaction).
        workflow.register_transition_listener(services.notify_decision)
