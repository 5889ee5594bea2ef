"""Deciding candidate pairs, and undoing a merge: the rules of the duplicates review (docs/duplicates.md).

1. Who: reviewers and admins only (403). Both records of the pair must be visible to the decider
   (`Victim.objects.visible_to`): a pair with a hidden record reads as absent (404).
2. Four eyes: nobody decides a pair in which they authored both records (403).
3. Compare-and-set: a decision is one conditional update of the pair (`status=candidate`, `version=`
   the version the decider read); zero rows means someone else decided first (409). A record marked as
   a duplicate is changed the same way (its `duplicate_of` and `version` as read), so nothing is
   half-written.
4. Groups of one person: `duplicate_of` always names a kept record that is itself no duplicate (no
   chains). Confirming a pair (a, b) keeping k:
   - the record kept is k's *kept record*: k itself, or the record k is already a duplicate of (the
     decision resolves to it and says so in the audit entry; it never makes a chain);
   - the other record's group joins it: the other record (or the kept record of its group) is marked
     `duplicate_of` the kept one, and every record that pointed at it is re-pointed there too;
   - if both already belong to the same group, nothing changes on the records: the pair is confirmed.
5. Every marked record's `version` goes up, so a new count's fingerprint (counted ids and versions)
   differs; a published count snapshot is frozen by the database and never changes (a new snapshot
   supersedes it).
6. Unmerge (a record marked as a duplicate; reason required): `duplicate_of` is cleared, and the
   confirmed pairs that involve the record go back to the queue as candidates (their earlier decision
   stays in the audit log). The kept record of a group is not unmerged itself: unmerge its duplicates.
7. Every decision and unmerge writes audit entries (the pair's, and one per record changed); details
   hold ids, the score and the decision, never an identity number or a date of birth.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents import roles
from incidents.models import Victim, victim_visibility_q
from incidents.workflow import IllegalTransition

from .models import CandidatePair

DECISIONS = ("confirm", "dismiss")


DECIDERS_ONLY = gettext_lazy("Only reviewers and admins may review duplicates.")


def may_decide(user: Any) -> bool:
    """Reviewers and admins decide pairs and unmerge records."""
    return roles.can_review(user) or roles.can_manage_counts(user)


def require_decider(user: Any) -> None:
    """403 unless `may_decide`: deciding, unmerging, and the duplicate pages."""
    if not may_decide(user):
        raise PermissionDenied(DECIDERS_ONLY)


def visible_pairs(user: Any):
    """The pairs `user` may see: both records visible to them (any other pair reads as absent).

    The victims' own rule (`victim_visibility_q`) on each side's joined row: the same pairs as
    `victim_a__in=Victim.objects.visible_to(user)` (and for b), without reading each victim twice."""
    side_a, side_b = victim_visibility_q(user, "victim_a__"), victim_visibility_q(user, "victim_b__")
    if side_a is None or side_b is None:
        return CandidatePair.objects.none()
    return CandidatePair.objects.filter(side_a & side_b)


def _conflict(message: str) -> IllegalTransition:
    return IllegalTransition(message, code="conflict")


def _kept_record_of(victim: Victim) -> Victim:
    """The record that stands for `victim`'s person: itself, or the one it is a duplicate of."""
    if victim.duplicate_of_id is None:
        return victim
    return Victim.objects.select_for_update().get(pk=victim.duplicate_of_id)


def _mark(actor: Any, victim: Victim, kept: Victim, pair: CandidatePair) -> list[int]:
    """Mark `victim` (a group's kept record or a lone record) `duplicate_of` `kept`, re-pointing the records
    that were its duplicates; compare-and-set on what was read. Returns the ids of the records marked."""
    from audit.services import record_event

    now = timezone.now()
    followers = list(
        Victim.objects.select_for_update().filter(duplicate_of=victim).order_by("pk").values_list("pk", "version")
    )
    moved = Victim.objects.filter(pk=victim.pk, duplicate_of__isnull=True, version=victim.version).update(
        duplicate_of=kept, version=F("version") + 1, updated_at=now
    )
    if moved != 1:
        raise _conflict(_("Someone else changed one of these records at the same moment; reload the pair."))
    for pk, version in followers:
        if (
            Victim.objects.filter(pk=pk, duplicate_of=victim, version=version).update(
                duplicate_of=kept, version=F("version") + 1, updated_at=now
            )
            != 1
        ):
            raise _conflict(_("Someone else changed one of these records at the same moment; reload the pair."))
    marked = [victim.pk, *(pk for pk, _version in followers)]
    for pk in marked:
        record_event(
            actor=actor,
            action="victim.mark_duplicate",
            target=Victim(pk=pk),
            details={"duplicate_of": kept.pk, "pair": pair.pk},
        )
    return marked


@transaction.atomic
def decide(
    pair: CandidatePair,
    user: Any,
    decision: str,
    keep: int | Victim | None = None,
    comment: str = "",
    version: int | None = None,
) -> CandidatePair:
    """Confirm (the other record becomes a duplicate of the one kept) or dismiss a candidate pair."""
    from audit.services import lock_chain, record_event

    require_decider(user)
    if decision not in DECISIONS:
        raise ValidationError({"decision": _("Choose confirm or dismiss.")})
    comment = (comment or "").strip()
    keep_id = getattr(keep, "pk", keep)
    if keep_id is not None and keep_id not in (pair.victim_a_id, pair.victim_b_id):
        raise ValidationError({"keep": _("Keep one of the two records of this pair.")})
    if decision == "confirm" and keep_id is None:
        raise ValidationError({"keep": _("Choose which record is kept.")})
    if not visible_pairs(user).filter(pk=pair.pk).exists():
        raise Http404
    if pair.victim_a.created_by_id == user.pk and pair.victim_b.created_by_id == user.pk:
        raise PermissionDenied(_("You recorded both of these records: another reviewer must decide (four eyes)."))
    expected = pair.version if version is None else version
    lock_chain()  # before any row lock, as every writer of the audit chain does
    current = CandidatePair.objects.select_for_update().filter(pk=pair.pk).values("status", "version").first()
    if current is None:
        raise Http404
    if current["status"] != CandidatePair.State.CANDIDATE:
        raise _conflict(
            _("This pair was already decided (%(status)s); reload it.")
            % {"status": CandidatePair.State(current["status"]).label.lower()}
        )
    if current["version"] != expected:
        raise _conflict(_("Someone else changed this pair at the same moment; reload it."))
    details: dict[str, Any] = {
        "victim_a": pair.victim_a_id,
        "victim_b": pair.victim_b_id,
        "score": round(float(pair.score), 4),
        "likely": bool(pair.likely),
    }
    kept: Victim | None = None
    if decision == "confirm":
        chosen = Victim.objects.select_for_update().get(pk=keep_id)
        other = Victim.objects.select_for_update().get(
            pk=pair.victim_b_id if keep_id == pair.victim_a_id else pair.victim_a_id
        )
        kept = _kept_record_of(chosen)
        joining = _kept_record_of(other)
        details["chosen"] = chosen.pk
        details["kept"] = kept.pk
        details["marked"] = [] if joining.pk == kept.pk else _mark(user, joining, kept, pair)
        if joining.pk == kept.pk:
            details["already_one_person"] = True
    target = CandidatePair.State.CONFIRMED if decision == "confirm" else CandidatePair.State.DISMISSED
    decided = CandidatePair.objects.filter(pk=pair.pk, status=CandidatePair.State.CANDIDATE, version=expected).update(
        status=target,
        kept=kept,
        decided_by=user,
        decided_at=timezone.now(),
        comment=comment,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if decided != 1:
        raise _conflict(_("Someone else changed this pair at the same moment; reload it."))
    record_event(
        actor=user,
        action=f"duplicate_pair.{decision}",
        target=pair,
        from_state=CandidatePair.State.CANDIDATE,
        to_state=target,
        comment=comment,
        details=details,
    )
    pair.refresh_from_db()
    return pair


@transaction.atomic
def unmerge(victim: Victim, user: Any, reason: str) -> Victim:
    """Undo a merge: `victim` is no longer a duplicate; the confirmed pairs involving it are reopened."""
    from audit.services import lock_chain, record_event

    require_decider(user)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why this record is not a duplicate.")})
    if not Victim.objects.visible_to(user).filter(pk=victim.pk).exists():
        raise Http404
    lock_chain()
    current = Victim.objects.select_for_update().get(pk=victim.pk)
    if current.duplicate_of_id is None:
        if current.duplicates.exists():
            raise _conflict(
                _("This is the kept record of its group: unmerge the records marked as its duplicates instead.")
            )
        raise _conflict(_("This record is not marked as a duplicate."))
    was = current.duplicate_of_id
    moved = Victim.objects.filter(pk=current.pk, duplicate_of_id=was, version=current.version).update(
        duplicate_of=None, version=F("version") + 1, updated_at=timezone.now()
    )
    if moved != 1:
        raise _conflict(_("Someone else changed this record at the same moment; reload it."))
    reopened = list(
        CandidatePair.objects.select_for_update()
        .filter(Q(victim_a=current) | Q(victim_b=current), status=CandidatePair.State.CONFIRMED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    CandidatePair.objects.filter(pk__in=reopened, status=CandidatePair.State.CONFIRMED).update(
        status=CandidatePair.State.CANDIDATE,
        kept=None,
        decided_by=None,
        decided_at=None,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    record_event(
        actor=user,
        action="victim.unmerge",
        target=current,
        comment=reason,
        details={"was_duplicate_of": was, "reopened_pairs": reopened},
    )
    for pk in reopened:
        record_event(
            actor=user,
            action="duplicate_pair.reopen",
            target=CandidatePair(pk=pk),
            from_state=CandidatePair.State.CONFIRMED,
            to_state=CandidatePair.State.CANDIDATE,
            comment=reason,
            details={"unmerged": current.pk},
        )
    current.refresh_from_db()
    return current
