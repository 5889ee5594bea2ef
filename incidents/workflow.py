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
6. A review of an incident may decide its evidence in the same step, evidence first (so the approved
   evidence counts towards rule 4), then the incident, then its victims: all of it or nothing.
7. Bulk decisions (`review_many`) are one transition per record, each with every check above; one
   record's refusal is reported by its code (BULK_CODES) and does not stop the others.
8. Other apps hear of every move (`register_transition_listener`), inside the same transaction, e.g. to
   leave a notice for the record's author.
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
from django.utils.translation import ngettext

from . import roles
from .models import Incident, Status, Victim


class IllegalTransition(Exception):
    """A move the record's current state does not allow, or a concurrent change won (HTTP 409).

    `code` says which, for bulk results: "not_submitted" (the state forbids the move), "conflict"
    (someone else changed the record at the same moment), "evidence_missing" (rule 4)."""

    def __init__(self, message: str, code: str = "not_submitted") -> None:
        super().__init__(message)
        self.code = code


# What `review_many` reports for each id.
BULK_CODES = {
    "ok": "decided",
    "not_found": "absent, or not visible to you",
    "own_record": "you authored it: another reviewer must decide (four eyes)",
    "not_submitted": "not waiting for a decision (its state does not allow this move)",
    "conflict": "someone else changed it at the same moment",
    "evidence_missing": "an incident without the approved evidence it needs",
    "forbidden": "you may not decide it",
    "invalid": "the decision was refused as invalid for this record",
}
MAX_BULK = 500


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
_TRANSITION_LISTENERS: list[Callable[..., None]] = []


def register_transition_listener(listener: Callable[..., None]) -> None:
    """`listener(actor=, record=, kind=, action=, from_state=, to_state=, comment=, details=)` runs after every move,
    in the move's transaction (so a refused or rolled-back move leaves nothing behind)."""
    if listener not in _TRANSITION_LISTENERS:
        _TRANSITION_LISTENERS.append(listener)


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
    roles.require_reviewer(actor)
    if transition.who == FOUR_EYES and record.created_by_id == actor.pk:
        raise PermissionDenied(_("Nobody reviews their own work: another reviewer must decide."))


def _move(
    actor: Any,
    record: Any,
    action: str,
    comment: str = "",
    details: dict | None = None,
    comment_required: bool = True,
) -> Any:
    from audit.services import lock_chain, record_event

    transition = TRANSITIONS[action]
    _check_actor(actor, record, transition)
    if transition.needs_comment and comment_required and not comment.strip():
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
        raise IllegalTransition(_("Someone else changed this record at the same moment; reload it."), code="conflict")
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
    for listener in _TRANSITION_LISTENERS:
        listener(
            actor=actor,
            record=record,
            kind=kind_of(record).name,
            action=action,
            from_state=current,
            to_state=transition.target,
            comment=comment,
            details=details or {},
        )
    return record


# --- Public verbs ------------------------------------------------------------------------------


@transaction.atomic
def submit(actor: Any, record: Any) -> Any:
    """The author sends a draft (or a record sent back) to review. An incident takes along the
    author's draft records attached to it: its victims and every registered evidence kind
    (testimony, media, sources), so one submission puts the whole case before a reviewer."""
    _move(actor, record, "submit")
    if isinstance(record, Incident):
        for kind in KINDS.values():
            if kind.incident_path != "incident":
                continue
            drafts = kind.model.objects.filter(
                incident=record, created_by=actor, status__in=[Status.DRAFT, Status.CHANGES_REQUESTED]
            )
            for attached in drafts.order_by("pk"):
                _move(actor, attached, "submit", details={"with_incident": record.pk})
    return record


@transaction.atomic
def review(
    actor: Any,
    record: Any,
    decision: str,
    comment: str = "",
    victims: dict[int, str] | None = None,
    evidence: dict[str, dict[int, str]] | None = None,
) -> Any:
    """A reviewer's decision. For an incident, its submitted victims follow the decision unless
    `victims` ({victim id: "approve" | "reject"}) decides them one by one; `evidence`
    ({"sources" | "testimonies" | "media": {id: "approve" | "reject"}}) decides its evidence first, in the
    same transaction, so evidence approved here counts towards the incident's evidence minimum. Any
    refusal (of the incident or of one piece of evidence) leaves everything as it was."""
    if decision not in DECISIONS:
        raise ValidationError({"decision": _("Choose approve, reject or request_changes.")})
    if victims is not None and not isinstance(record, Incident):
        raise ValidationError({"victims": _("Per-victim decisions apply to incidents only.")})
    if evidence is not None and not isinstance(record, Incident):
        raise ValidationError({"evidence": _("Evidence decisions apply to incidents only.")})
    _check_actor(actor, record, TRANSITIONS[decision])  # who may act comes before any other rule
    if evidence:
        decide_evidence(actor, record, evidence, comment)
    if decision == "approve" and isinstance(record, Incident):
        required = settings.REVIEW_MIN_EVIDENCE
        if approved_evidence_count(record) < required:
            raise IllegalTransition(
                ngettext(
                    "An incident needs at least %(n)s approved piece of evidence (testimony, media or a "
                    "documented source) before it can be approved: approve its evidence first.",
                    "An incident needs at least %(n)s approved pieces of evidence (testimony, media or "
                    "documented sources) before it can be approved: approve its evidence first.",
                    required,
                )
                % {"n": required},
                code="evidence_missing",
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
        _move(
            actor,
            submitted[int(key)],
            victim_decision,
            comment,
            details={"with_incident": incident.pk},
            comment_required=False,  # the incident's decision is the context
        )


def evidence_kinds() -> dict[str, Kind]:
    """The registered kinds that are evidence of an incident (testimonies, media, sources)."""
    return {name: kind for name, kind in KINDS.items() if kind.incident_path == "incident" and kind.model is not Victim}


def decide_evidence(actor: Any, incident: Incident, chosen: dict[str, dict[int, str]], comment: str = "") -> None:
    """Approve or reject submitted evidence of `incident`, item by item (each its own audited move)."""
    if not isinstance(chosen, dict):
        raise ValidationError({"evidence": _("Give evidence decisions by kind: sources, testimonies, media.")})
    kinds = evidence_kinds()
    unknown_kinds = sorted(set(chosen) - set(kinds))
    if unknown_kinds:
        raise ValidationError(
            {"evidence": _("Unknown evidence kinds: %(kinds)s.") % {"kinds": ", ".join(map(str, unknown_kinds))}}
        )
    for name in sorted(chosen):
        decisions = {int(key): value for key, value in (chosen[name] or {}).items()}
        if not decisions:
            continue
        if any(value not in ("approve", "reject") for value in decisions.values()):
            raise ValidationError({"evidence": _("Each piece of evidence is either approved or rejected.")})
        submitted = {
            item.pk: item
            for item in kinds[name].model.objects.filter(
                incident=incident, status=Status.SUBMITTED, pk__in=sorted(decisions)
            )
        }
        missing = sorted(set(decisions) - set(submitted))
        if missing:
            raise ValidationError(
                {
                    "evidence": _("Not submitted %(kind)s of this incident: %(ids)s")
                    % {"kind": name, "ids": ", ".join(map(str, missing))}
                }
            )
        for pk in sorted(decisions):
            _move(
                actor,
                submitted[pk],
                decisions[pk],
                comment,
                details={"with_incident": incident.pk},
                comment_required=False,  # the case's decision and comment are the context
            )


@transaction.atomic
def decide_case_items(
    actor: Any,
    incident: Incident,
    victims: dict[int, str] | None = None,
    evidence: dict[str, dict[int, str]] | None = None,
    comment: str = "",
) -> None:
    """Decide a case's submitted victims and evidence without deciding the incident (e.g. evidence added to a
    verified incident): all of them or none."""
    roles.require_reviewer(actor)
    if evidence:
        decide_evidence(actor, incident, evidence, comment)
    if victims:
        submitted = {v.pk: v for v in incident.victims.filter(status=Status.SUBMITTED, pk__in=list(victims))}
        missing = sorted(set(map(int, victims)) - set(submitted))
        if missing:
            raise ValidationError(
                {
                    "victims": _("Not submitted victims of this incident: %(ids)s")
                    % {"ids": ", ".join(map(str, missing))}
                }
            )
        for pk, choice in sorted((int(k), v) for k, v in victims.items()):
            if choice not in ("approve", "reject"):
                raise ValidationError({"victims": _("Each victim is either approved or rejected.")})
            _move(actor, submitted[pk], choice, comment, details={"with_incident": incident.pk}, comment_required=False)


def review_many(actor: Any, kind_name: str, ids: list[int], decision: str, comment: str = "") -> dict[str, str]:
    """One decision for many records of one kind, each its own transition (`review`) in its own savepoint.

    Returns {"<id>": "ok" | code} with the codes of BULK_CODES. The request as a whole is refused only for
    what concerns all of it: no reviewer's right (403), an unknown kind or decision, no ids, too many ids,
    or a missing comment where the decision needs one (400)."""
    roles.require_reviewer(actor)
    if kind_name not in KINDS:
        raise ValidationError({"kind": _("Unknown kind: %(kinds)s.") % {"kinds": kind_name}})
    if decision not in DECISIONS:
        raise ValidationError({"decision": _("Choose approve, reject or request_changes.")})
    if TRANSITIONS[decision].needs_comment and not comment.strip():
        raise ValidationError({"comment": _("A comment is required for this decision.")})
    ordered = list(dict.fromkeys(int(pk) for pk in ids))
    if not ordered:
        raise ValidationError({"ids": _("Choose at least one record.")})
    if len(ordered) > MAX_BULK:
        raise ValidationError({"ids": _("At most %(n)s records at once.") % {"n": MAX_BULK}})
    model = KINDS[kind_name].model
    in_range = [pk for pk in ordered if 0 < pk <= 2**63 - 1]
    visible = {record.pk: record for record in model.objects.visible_to(actor).filter(pk__in=in_range)}
    results: dict[str, str] = {}
    for pk in ordered:
        record = visible.get(pk)
        if record is None:
            results[str(pk)] = "not_found"
            continue
        try:
            with transaction.atomic():
                review(actor, record, decision, comment)
        except PermissionDenied:
            results[str(pk)] = "own_record" if record.created_by_id == getattr(actor, "pk", None) else "forbidden"
        except IllegalTransition as exc:
            results[str(pk)] = exc.code
        except ValidationError:
            results[str(pk)] = "invalid"
        else:
            results[str(pk)] = "ok"
    return results


@transaction.atomic
def reopen(actor: Any, record: Any, reason: str) -> Any:
    """Send a verified record back to review; it leaves every count until approved again."""
    _check_actor(actor, record, TRANSITIONS["reopen"])
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the record is reopened.")})
    return _move(actor, record, "reopen", reason)


# --- Reading -----------------------------------------------------------------------------------


def review_queue(actor: Any, kinds: list[str] | None = None) -> list[tuple[Kind, models.QuerySet]]:
    """Submitted records the actor may decide (not their own), per kind, oldest first."""
    roles.require_reviewer(actor, _("Only reviewers and admins have a review queue."))
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


def case_queue(actor: Any) -> models.QuerySet:
    """Incidents with something the actor may decide (the incident itself, or any of its victims or
    evidence, submitted by someone else), annotated with `pending_victims`, `pending_evidence`,
    `incident_pending` (1 or 0) and `waiting_since` (the oldest pending record's last change), for paging
    and ordering in the database (oldest first)."""
    from django.db.models import Case as SqlCase
    from django.db.models import Count, DateTimeField, IntegerField, Min, OuterRef, Q, Subquery, Value, When
    from django.db.models.functions import Coalesce, Least

    roles.require_reviewer(actor, _("Only reviewers and admins have a review queue."))
    far_future = Value(timezone.make_aware(timezone.datetime(9999, 1, 1)), output_field=DateTimeField())

    def pending(model: type[models.Model]) -> models.QuerySet:
        return model.objects.filter(status=Status.SUBMITTED).exclude(created_by=actor)

    def per_incident(model: type[models.Model], aggregate: Any) -> Subquery:
        rows = pending(model).filter(incident=OuterRef("pk")).order_by().values("incident")
        return Subquery(rows.annotate(value=aggregate).values("value")[:1])

    evidence = [kind.model for kind in evidence_kinds().values()]
    incident_pending = Q(status=Status.SUBMITTED) & ~Q(created_by=actor)
    condition = incident_pending | Q(pk__in=pending(Victim).values("incident_id"))
    for model in evidence:
        condition |= Q(pk__in=pending(model).values("incident_id"))
    zero = Value(0, output_field=IntegerField())
    evidence_count: Any = zero
    for model in evidence:
        evidence_count = evidence_count + Coalesce(per_incident(model, Count("pk")), zero)
    since = [
        SqlCase(When(incident_pending, then=F("updated_at")), default=far_future, output_field=DateTimeField()),
        Coalesce(per_incident(Victim, Min("updated_at")), far_future),
        *(Coalesce(per_incident(model, Min("updated_at")), far_future) for model in evidence),
    ]
    return (
        Incident.objects.visible_to(actor)
        .filter(condition)
        .annotate(
            incident_pending=SqlCase(When(incident_pending, then=Value(1)), default=zero, output_field=IntegerField()),
            pending_victims=Coalesce(per_incident(Victim, Count("pk")), zero),
            pending_evidence=evidence_count,
            waiting_since=Least(*since),
        )
    )


def history(record: models.Model) -> models.QuerySet:
    from audit.models import AuditEntry

    return AuditEntry.objects.for_target(record).order_by("sequence")
