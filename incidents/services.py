"""What may happen to incidents and victims: every create, update and delete, with its rules.

Views, serializers, tasks and commands call these functions and hold no rules of their own.
Workflow transitions (submit, review, reopen) live in workflow.py.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from . import roles
from .models import AgeGroup, Incident, Status, Victim, age_group_for

INCIDENT_FIELDS = {
    "title",
    "description",
    "occurred_on",
    "date_precision",
    "location",
    "latitude",
    "longitude",
    "perpetrator",
    "weapon",
    "injured_count",
}
VICTIM_FIELDS = {
    "incident",
    "name",
    "name_ar",
    "sex",
    "age_years",
    "age_group",
    "civilian_status",
    "roles",
    "date_of_death",
    "place_of_death",
    "date_of_birth",
    "identity_number",
}


def _require_documenter(user: Any) -> None:
    if not roles.can_document(user):
        raise PermissionDenied(_("Only documenters may record incidents and victims."))


def require_author_and_editable(user: Any, record: Any) -> None:
    """Only the author changes a record, and only while it is a draft or sent back (any reviewable kind)."""
    if record.created_by_id != getattr(user, "pk", None):
        raise PermissionDenied(_("Only the author may change this record."))
    if not record.is_editable:
        from .workflow import IllegalTransition

        raise IllegalTransition(
            _("A %(status)s record cannot be edited; it must be sent back for changes or reopened first.")
            % {"status": record.get_status_display().lower()}
        )


def apply_changes(record: Any, changes: dict[str, Any], allowed: set[str]) -> list[str]:
    """Set the allowed fields on the record; any other field is a 400."""
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    changed = []
    for name, value in changes.items():
        setattr(record, name, value)
        changed.append(name)
    return changed


def save_changes(record: Any, changed: list[str]) -> None:
    """Save the changed fields and bump the version (part of every count fingerprint)."""
    record.version = F("version") + 1
    record.save(update_fields=[*changed, "version", "updated_at"])
    record.refresh_from_db(fields=["version", "updated_at"])


# --- Incidents -----------------------------------------------------------------------------------


@transaction.atomic
def create_incident(*, author: Any, **fields: Any) -> Incident:
    _require_documenter(author)
    incident = Incident(created_by=author, status=Status.DRAFT)
    apply_changes(incident, fields, INCIDENT_FIELDS)
    incident.save()
    return incident


@transaction.atomic
def update_incident(*, actor: Any, incident: Incident, **changes: Any) -> Incident:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    require_author_and_editable(actor, incident)
    changed = apply_changes(incident, changes, INCIDENT_FIELDS)
    if changed:
        save_changes(incident, changed)
    return incident


@transaction.atomic
def delete_incident(*, actor: Any, incident: Incident) -> None:
    incident = Incident.objects.select_for_update().get(pk=incident.pk)
    require_author_and_editable(actor, incident)
    if incident.status != Status.DRAFT:
        from .workflow import IllegalTransition

        raise IllegalTransition(_("Only a draft that was never submitted can be deleted."))
    if incident.victims.exclude(status=Status.DRAFT).exists():
        from .workflow import IllegalTransition

        raise IllegalTransition(_("This incident has victims under review; it cannot be deleted."))
    incident.delete()


# --- Victims -------------------------------------------------------------------------------------


def _normalise_victim(fields: dict[str, Any]) -> dict[str, Any]:
    """Roles list to columns; the age group follows from an age in years when one is given."""
    fields = dict(fields)
    if "roles" in fields:
        chosen = set(fields.pop("roles") or [])
        for role, column in Victim.ROLE_FIELDS.items():
            fields[column] = role in chosen
    return fields


def _may_add_victim_to(user: Any, incident: Incident) -> bool:
    if incident.status == Status.VERIFIED:
        return True  # added victims start as drafts and go through review on their own
    return incident.created_by_id == user.pk and incident.is_editable


def may_add_victim_to(user: Any, incident: Any) -> bool:
    """Whether `user` may add a victim to `incident` (an import checks this for rows of existing incidents)."""
    return _may_add_victim_to(user, incident)


@transaction.atomic
def create_victim(*, author: Any, incident: Incident, **fields: Any) -> Victim:
    _require_documenter(author)
    if not _may_add_victim_to(author, incident):
        raise PermissionDenied(_("Victims can be added only to your own editable incidents or to verified incidents."))
    victim = Victim(created_by=author, incident=incident, status=Status.DRAFT)
    fields = _normalise_victim(fields)
    allowed = (VICTIM_FIELDS - {"roles", "incident"}) | set(Victim.ROLE_FIELDS.values())
    apply_changes(victim, fields, allowed)
    victim.age_group = age_group_for(victim.age_years, victim.age_group or AgeGroup.UNKNOWN)
    victim.save()
    victim.refresh_from_db(fields=["category"])
    return victim


@transaction.atomic
def update_victim(*, actor: Any, victim: Victim, **changes: Any) -> Victim:
    victim = Victim.objects.select_for_update().get(pk=victim.pk)
    require_author_and_editable(actor, victim)
    if "incident" in changes and changes["incident"].pk != victim.incident_id:
        raise ValidationError({"incident": _("A victim cannot be moved to another incident; record it there anew.")})
    changes.pop("incident", None)
    changes = _normalise_victim(changes)
    allowed = (VICTIM_FIELDS - {"roles", "incident"}) | set(Victim.ROLE_FIELDS.values())
    changed = apply_changes(victim, changes, allowed)
    new_group = age_group_for(victim.age_years, victim.age_group)
    if new_group != victim.age_group or "age_years" in changed:
        victim.age_group = new_group
        changed.append("age_group")
    if changed:
        save_changes(victim, sorted(set(changed)))
        victim.refresh_from_db(fields=["category"])
    return victim


@transaction.atomic
def delete_victim(*, actor: Any, victim: Victim) -> None:
    victim = Victim.objects.select_for_update().get(pk=victim.pk)
    require_author_and_editable(actor, victim)
    if victim.status != Status.DRAFT:
        from .workflow import IllegalTransition

        raise IllegalTransition(_("Only a draft victim record can be deleted."))
    victim.delete()
