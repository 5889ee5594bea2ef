"""The review workflow: one transition table for every reviewable kind.

    draft ──submit──▶ submitted ──approve──▶ verified ──reopen──▶ submitted
                       │  ▲   │
      request changes  │  │   └──reject──▶ rejected
                       ▼  │ submit
                changes_requested

1. Every move is one call to `_move`: it checks the table, updates the row with a compare-and-set
   (`filter(pk=..., status=old).update(status=new)`; zero rows means someone else won: 409), and
   writes one audit entry in the same transaction. Nothing else writes `status`.
2. The public verbs (`submit`, `review`, `reopen`) check who may act, then call `_move`.
3. Four eyes: nobody reviews a record they authored (403).
4. An incident is approved only with at least REVIEW_MIN_EVIDENCE approved evidence items,
   as counted by the evidence counters registered by other apps.
5. A kind joins the workflow with one line: `register_kind(Model, "plural-name")`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from . import roles
from .models import Incident, Status, Victim


class IllegalTransition(Exception):
    """A move the record's current state does not allow, or a concurrent change won (HTTP 409)."""


AUTHOR = "author"
REVIEWER = "reviewer"  # reviewers and admins
FOUR_EYES = "four_eyes"  # reviewers and admins, never the record's author


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    who: str
    needs_comment: bool = False


# The table, read top to bottom.
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("submit", (Status.DRAFT, Status.CHANGES_REQUESTED), Status.SUBMITTED, AUTHOR),
        Transition("approve", (Status.SUBMITTED,), Status.VERIFIED, FOUR_EYES),
        Transition("reject", (Status.SUBMITTED,), Status.REJECTED, FOUR_EYES, needs_comment=True),
        Transition("request_changes", (Status.SUBMITTED,), Status.CHANGES_REQUESTED, FOUR_EYES, needs_comment=True),
        Transition("reopen", (Status.VERIFIED,), Status.SUBMITTED, REVIEWER, needs_comment=True),
    )
}
DECISIONS = ("approve", "reject", "request_changes")


@dataclass(frozen=True)
class Kind:
    """A reviewable model and how to reach its incident (for queue filters)."""

    model: type[models.Model]
    name: str  # the API's plural path segment: incidents, victims, testimonies, media
    incident_path: str  # "" for the incident itself, else the lookup to it ("incident")


KINDS: dict[str, Kind] = {}
_EVIDENCE_COUNTERS: list[Callable[[Incident], int]] = []


def register_kind(model: type[models.Model], name: str, incident_path: str = "incident") -> None:
    """Make a Reviewable model join the workflow (queue, history, actions)."""
    KINDS[name] = Kind(model=model, name=name, incident_path=incident_path)


def register_evidence_counter(counter: Callable[[Incident], int]) -> None:
    """`counter(incident)` returns how many approved evidence items of one sort the incident has."""
    if counter not in _EVIDENCE_COUNTERS:
        _EVIDENCE_COUNTERS.append(counter)


def approved_evidence_count(incident: Incident) -> int:
    return sum(counter(incident) for counter in _EVIDENCE_COUNTERS)


def kind_of(record: models.Model) -> Kind:
    for kind in KINDS.values():
        if isinstance(record, kind.model):
            return kind
    raise LookupError(f"{type(record).__name__} is not a reviewable kind")


register_kind(Incident, "incidents", incident_path="")
register_kind(Victim, "victims")


# --- The one function that moves a status -----------------------------------------------------


def _check_actor(actor: Any, record: Any, transition: Transition) -> None:
    if transition.who == AUTHOR:
        if record.created_by_id != getattr(actor, "pk", None) or not roles.can_document(actor):
            raise PermissionDenied(_("Only the record's author may submit it."))
        return
    if not roles.can_review(actor):
        raise PermissionDenied(_("Only reviewers and admins may do this."))
    if transition.who == FOUR_EYES and record.created_by_id == actor.pk:
        raise PermissionDenied(_("Nobody reviews their own work: another reviewer must decide."))


def _move(actor: Any, record: Any, action: str, comment: str = "", details: dict | None = None) -> Any:
    from audit.services import lock_chain, record_event

    transition = TRANSITIONS[action]
    _check_actor(actor, record, transition)
    if transition.needs_comment and not comment.strip():
        raise ValidationError({"comment": _("A comment is required for this decision.")})
    lock_chain()  # always before any row lock, so concurrent transitions cannot deadlock
    current = type(record).objects.filter(pk=record.pk).values_list("status", flat=True).first()
    if current not in transition.sources:
        raise IllegalTransition(
            _("Cannot %(action)s a record that is %(status)s.")
            % {"action": action.replace("_", " "), "status": Status(current).label.lower() if current else "gone"}
        )
    moved = (
        type(record)
        .objects.filter(pk=record.pk, status=current)
        .update(status=transition.target, version=F("version") + 1, updated_at=timezone.now())
    )
    if moved != 1:
        raise IllegalTransition(_("Someone else changed this record at the same moment; reload it."))
    record_event(
        actor=actor,
        action=f"{kind_of(record).name}.{action}",
        target=record,
        from_state=current,
        to_state=transition.target,
        comment=comment,
        details=details,
    )
    record.refresh_from_db(fields=["status", "version", "updated_at"])
    return record


# --- Public verbs ------------------------------------------------------------------------------


@transaction.atomic
def submit(actor: Any, record: Any) -> Any:
    """The author sends a draft (or a record sent back) to review; an incident takes its draft victims along."""
    _move(actor, record, "submit")
    if isinstance(record, Incident):
        for victim in record.victims.filter(
            created_by=actor, status__in=[Status.DRAFT, Status.CHANGES_REQUESTED]
        ).order_by("pk"):
            _move(actor, victim, "submit", details={"with_incident": record.pk})
    return record


@transaction.atomic
def review(
    actor: Any,
    record: Any,
    decision: str,
    comment: str = "",
    victims: dict[int, str] | None = None,
) -> Any:
    """A reviewer's decision. For an incident, its submitted victims follow the decision unless
    `victims` ({victim id: "approve" | "reject"}) decides them one by one."""
    if decision not in DECISIONS:
        raise ValidationError({"decision": _("Choose approve, reject or request_changes.")})
    if victims is not None and not isinstance(record, Incident):
        raise ValidationError({"victims": _("Per-victim decisions apply to incidents only.")})
    _check_actor(actor, record, TRANSITIONS[decision])  # who may act comes before any other rule
    if decision == "approve" and isinstance(record, Incident):
        required = settings.REVIEW_MIN_EVIDENCE
        if approved_evidence_count(record) < required:
            raise IllegalTransition(
                _("An incident needs at least %(n)s approved piece(s) of evidence before it can be approved.")
                % {"n": required}
            )
    _move(actor, record, decision, comment)
    if isinstance(record, Incident):
        _decide_victims(actor, record, decision, comment, victims)
    return record


def _decide_victims(actor: Any, incident: Incident, decision: str, comment: str, chosen: dict | None) -> None:
    submitted = {v.pk: v for v in incident.victims.filter(status=Status.SUBMITTED).order_by("pk")}
    if chosen is None:
        for victim in submitted.values():
            if victim.created_by_id != actor.pk:  # four eyes, victim by victim
                _move(actor, victim, decision, comment, details={"with_incident": incident.pk})
        return
    if decision != "approve":
        raise ValidationError({"victims": _("Per-victim decisions go with approving the incident.")})
    unknown = [key for key in chosen if int(key) not in submitted]
    if unknown:
        raise ValidationError(
            {"victims": _("Not submitted victims of this incident: %(ids)s") % {"ids": ", ".join(map(str, unknown))}}
        )
    for key, victim_decision in sorted(chosen.items(), key=lambda item: int(item[0])):
        if victim_decision not in ("approve", "reject"):
            raise ValidationError({"victims": _("Each victim is either approved or rejected.")})
        victim_comment = comment or _("Decided with the incident.")
        _move(actor, submitted[int(key)], victim_decision, victim_comment, details={"with_incident": incident.pk})


@transaction.atomic
def reopen(actor: Any, record: Any, reason: str) -> Any:
    """Send a verified record back to review; it leaves every count until approved again."""
    return _move(actor, record, "reopen", reason)


# --- Reading -----------------------------------------------------------------------------------


def review_queue(actor: Any, kinds: list[str] | None = None) -> list[tuple[Kind, models.QuerySet]]:
    """Submitted records the actor may decide (not their own), per kind, oldest first."""
    if not roles.can_review(actor):
        raise PermissionDenied(_("Only reviewers and admins have a review queue."))
    chosen = [KINDS[name] for name in (kinds or KINDS) if name in KINDS]
    return [
        (
            kind,
            kind.model.objects.visible_to(actor)
            .filter(status=Status.SUBMITTED)
            .exclude(created_by=actor)
            .order_by("updated_at", "pk"),
        )
        for kind in chosen
    ]


def history(record: models.Model) -> models.QuerySet:
    from audit.models import AuditEntry

    return AuditEntry.objects.for_target(record).order_by("sequence")
