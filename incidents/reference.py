"""What may happen to reference data (places, parties, periods): every create, change and delete.

The API (serializers, viewsets) and the Django admin (its forms and save/delete hooks) both call
these functions, so both obey the same rules:
1. Only holders of the model's add/change/delete permission (admins) write reference data.
2. A place sits below its parent's level (Location.LEVEL_ORDER, country at the top).
3. Nothing moves under itself: a place or a party never gets a parent inside its own subtree.
4. A period ends on or after its start.
5. Every change writes one audit entry (`place.created`, `party.changed`, `period.deleted`, ...)
   naming the fields written, in the same transaction.
A refusal is a ValidationError naming the field (400 in the API, a form error in the admin).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from . import roles
from .models import Location, Perpetrator, ReportingPeriod
from .services import audit_write, locked, set_fields

# The audit name of each kind (the API calls parties "perpetrators" and periods "periods").
NAMES = {Location: "place", Perpetrator: "party", ReportingPeriod: "period"}
FIELDS = {
    Location: {"name", "name_ar", "level", "parent", "latitude", "longitude"},
    Perpetrator: {"name", "name_ar", "parent"},
    ReportingPeriod: {"name", "name_ar", "start", "end"},
}


def may_write(user: roles.UserLike, model: type[models.Model], verb: str) -> bool:
    """Rule 1: `verb` is add, change or delete."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_perm(f"{model._meta.app_label}.{verb}_{model._meta.model_name}")
    )


def _require(user: Any, model: type[models.Model], verb: str) -> None:
    if not may_write(user, model, verb):
        raise PermissionDenied(_("Only admins may change reference data."))


def problems(model: type[models.Model], values: dict[str, Any], instance: models.Model | None = None) -> dict:
    """Rules 2-4 for the values a row would have (`instance`: the row being changed, else None).

    Returns {field: message} (empty when the row may be written): the API and the admin form show these.
    """
    found: dict[str, str] = {}
    parent = values.get("parent")
    if model is Location and parent is not None and values.get("level"):
        order = Location.LEVEL_ORDER
        if order.index(values["level"]) <= order.index(parent.level):
            found["level"] = _("A place must sit below its parent's level.")
    moving = model in (Location, Perpetrator) and parent is not None and instance is not None and instance.pk
    if moving and parent.pk in model.objects.subtree_ids([instance.pk]):
        found["parent"] = (
            _("A place cannot be moved under itself.")
            if model is Location
            else _("A party cannot be placed under itself.")
        )
    if model is ReportingPeriod and values.get("start") and values.get("end") and values["end"] < values["start"]:
        found["end"] = _("The end must not be before the start.")
    return found


def values_after(model: type[models.Model], instance: models.Model | None, changes: dict[str, Any]) -> dict:
    """The values the row would hold once `changes` are applied."""
    current = {name: getattr(instance, name) for name in FIELDS[model]} if instance is not None else {}
    return {**current, **changes}


def _check(model: type[models.Model], instance: models.Model | None, changes: dict[str, Any]) -> None:
    unknown = set(changes) - FIELDS[model]
    if unknown:
        raise ValidationError({name: _("This field cannot be set.") for name in sorted(unknown)})
    found = problems(model, values_after(model, instance, changes), instance)
    if found:
        raise ValidationError(found)


@transaction.atomic
def create(*, actor: Any, model: type[models.Model], **fields: Any) -> models.Model:
    _require(actor, model, "add")
    _check(model, None, fields)
    row = model(**fields)
    row.save()
    audit_write(actor, f"{NAMES[model]}.created", row, set_fields(fields))
    return row


@transaction.atomic
def change(*, actor: Any, row: models.Model, **changes: Any) -> models.Model:
    model = type(row)
    _require(actor, model, "change")
    row = locked(row)
    _check(model, row, changes)
    changed = [name for name, value in changes.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, changes[name])
    if changed:
        row.save(update_fields=changed)
        audit_write(actor, f"{NAMES[model]}.changed", row, changed)
    return row


@transaction.atomic
def delete(*, actor: Any, row: models.Model) -> None:
    """A row other rows point at (records, places below it) is not deleted: ProtectedError (409)."""
    model = type(row)
    _require(actor, model, "delete")
    row = locked(row)
    audit_write(actor, f"{NAMES[model]}.deleted", row, name=row.name)
    row.delete()  # refused (and the entry rolled back with it) while anything refers to the row
