"""What may happen to incidents and victims: every create, update and delete, with its rules.

Views, serializers, tasks and commands call these functions and hold no rules of their own.
Workflow transitions (submit, review, reopen) live in workflow.py; places, parties and periods in
reference.py.

Rules (stated here once; the other apps' services and the pages ask these functions):
1. Documenters record incidents and victims (`roles.require_documenter`).
2. Victims and evidence are attached to the documenter's own editable incident, or to a verified
   incident (`may_attach_to`).
3. Only the author changes a record, and only while it is a draft or sent back (`may_edit`,
   `require_author_and_editable`; `open_attached` and `save_attached` around a change of a record
   attached to an incident).
4. A record stays with its incident (`keep_incident`); only a draft that was never submitted is
   deleted (`require_draft`; `delete_attached_draft` for victims, testimony and sources).
5. Every create, change and delete writes one audit entry in the same transaction (`audit_write`):
   who, which record, and the NAMES of the fields set or changed, never their values.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from audit.services import lock_chain, record_event

from . import roles
from .models import AgeGroup, Incident, Status, Victim, age_group_for

# The fields a documenter writes, in the order the API shows them (incidents/serializers.py).
INCIDENT_FIELDS = (
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
)
VICTIM_FIELDS = (
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
)


# --- The rules every reviewable kind shares --------------------------------------------------------


def may_attach_to(user: Any, incident: Any) -> bool:
    """Rule 2: whether `user` may attach a victim or evidence to `incident` (an import checks this too)."""
    if not roles.can_document(user):
        return False
    if incident.status == Status.VERIFIED:
        return True  # what is added starts as a draft and goes through review on its own
    return incident.created_by_id == user.pk and incident.is_editable


def require_may_attach(user: Any, incident: Any, message: str) -> None:
    if not may_attach_to(user, incident):
        raise PermissionDenied(message)


def may_edit(user: Any, record: Any) -> bool:
    """Rule 3 as a question (pages show the edit controls by it): the author, while editable."""
    return record.created_by_id == getattr(user, "pk", None) and record.is_editable


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


def keep_incident(record: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """Rule 4: the changes without `incident`; naming another incident is a 400."""
    changes = dict(changes)
    incident = changes.pop("incident", None)
    if incident is not None and incident.pk != record.incident_id:
        raise ValidationError({"incident": _("A record cannot be moved to another incident; record it there anew.")})
    return changes


def require_draft(record: Any) -> None:
    """Rule 4: only a draft that was never submitted can be deleted (409 otherwise)."""
    if record.status != Status.DRAFT:
        from .workflow import IllegalTransition

        raise IllegalTransition(_("Only a draft that was never submitted can be deleted."))


def locked(record: models.Model) -> Any:
    """The record re-read under a row lock, after the audit chain's lock (the one lock order)."""
    lock_chain()
    return type(record).objects.select_for_update().get(pk=record.pk)


def audit_write(actor: Any, action: str, record: models.Model, fields: Any = (), **details: Any) -> None:
    """Rule 5: one entry naming the record and the fields written. Only names: never a value (a
    witness's identity, an identity number or a date of birth must not reach the log)."""
    record_event(actor=actor, action=action, target=record, details={"fields": sorted(set(fields)), **details})


def set_fields(fields: dict[str, Any]) -> list[str]:
    """The names of the fields a create actually fills (empty values are the defaults, not news)."""
    return [name for name, value in fields.items() if value not in (None, "", [], False)]


def apply_changes(record: Any, changes: dict[str, Any], allowed: Collection[str]) -> list[str]:
    """Set the allowed fields on the record; any other field is a 400."""
    unknown = set(changes) - set(allowed)
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
    roles.require_documenter(author)
    incident = Incident(created_by=author, status=Status.DRAFT)
    apply_changes(incident, fields, INCIDENT_FIELDS)
    lock_chain()
    incident.save()
    audit_write(author, "incident.created", incident, set_fields(fields))
    return incident


@transaction.atomic
def update_incident(*, actor: Any, incident: Incident, **changes: Any) -> Incident:
    incident = locked(incident)
    require_author_and_editable(actor, incident)
    changed = apply_changes(incident, changes, INCIDENT_FIELDS)
    if changed:
        save_changes(incident, changed)
        audit_write(actor, "incident.changed", incident, changed)
    return incident


@transaction.atomic
def delete_incident(*, actor: Any, incident: Incident) -> None:
    incident = locked(incident)
    require_author_and_editable(actor, incident)
    require_draft(incident)
    if incident.victims.exclude(status=Status.DRAFT).exists():
        from .workflow import IllegalTransition

        raise IllegalTransition(_("This incident has victims under review; it cannot be deleted."))
    audit_write(actor, "incident.deleted", incident, victims=incident.victims.count())
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


@transaction.atomic
def create_victim(*, author: Any, incident: Incident, **fields: Any) -> Victim:
    roles.require_documenter(author)
    require_may_attach(
        author, incident, _("Victims can be added only to your own editable incidents or to verified incidents.")
    )
    victim = Victim(created_by=author, incident=incident, status=Status.DRAFT)
    fields = _normalise_victim(fields)
    allowed = (set(VICTIM_FIELDS) - {"roles", "incident"}) | set(Victim.ROLE_FIELDS.values())
    apply_changes(victim, fields, allowed)
    victim.age_group = age_group_for(victim.age_years, victim.age_group or AgeGroup.UNKNOWN)
    lock_chain()
    victim.save()
    victim.refresh_from_db(fields=["category"])
    audit_write(author, "victim.created", victim, set_fields(fields), incident=incident.pk)
    return victim


@transaction.atomic
def update_victim(*, actor: Any, victim: Victim, **changes: Any) -> Victim:
    victim, changes = open_attached(actor, victim, changes)
    changes = _normalise_victim(changes)
    allowed = (set(VICTIM_FIELDS) - {"roles", "incident"}) | set(Victim.ROLE_FIELDS.values())
    changed = apply_changes(victim, changes, allowed)
    new_group = age_group_for(victim.age_years, victim.age_group)
    if new_group != victim.age_group or "age_years" in changed:
        victim.age_group = new_group
        changed.append("age_group")
    if changed:
        save_changes(victim, sorted(set(changed)))
        victim.refresh_from_db(fields=["category"])
        audit_write(actor, "victim.changed", victim, changed, incident=victim.incident_id)
    return victim


def open_attached(actor: Any, record: Any, changes: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """Rules 3-4 before changing a record attached to an incident (victim, testimony, source, media):
    the row locked, its author's while editable, and the changes without `incident`."""
    record = locked(record)
    require_author_and_editable(actor, record)
    return record, keep_incident(record, changes)


def save_attached(actor: Any, record: Any, changed: list[str], action: str) -> None:
    """Rule 5 after changing such a record: the changed fields saved (version bumped) and one audit
    entry `action` naming them and the incident; nothing at all when nothing changed."""
    if changed:
        save_changes(record, changed)
        audit_write(actor, action, record, changed, incident=record.incident_id)


def delete_attached_draft(actor: Any, record: Any, action: str) -> None:
    """Rules 3-5 for a record attached to an incident (victim, testimony, source): its author deletes
    it while it is a draft, with an audit entry `action` naming the incident. In the caller's transaction."""
    record = locked(record)
    require_author_and_editable(actor, record)
    require_draft(record)
    audit_write(actor, action, record, incident=record.incident_id)
    record.delete()


@transaction.atomic
def delete_victim(*, actor: Any, victim: Victim) -> None:
    delete_attached_draft(actor, victim, "victim.deleted")
