"""Deciding candidate pairs through matching.services: who may, four eyes, compare-and-set, groups, audit."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from audit.models import AuditEntry
from incidents.models import Status, Victim
from incidents.workflow import IllegalTransition
from matching import services
from matching.models import CandidatePair
from tests.conftest import make_incident, make_victim
from tests.matching.review_helpers import fresh, pair_of, verified_victim

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_records(documenter, second_documenter):
    first = verified_victim(documenter, name="Ahmad Khaled", identity_number="0123456789")
    second = verified_victim(second_documenter, name="Ahmed Khalid", identity_number="0123456789")
    return first, second


def test_a_reviewer_confirming_a_pair_marks_the_other_record_a_duplicate_of_the_one_kept(reviewer, two_records):
    first, second = two_records
    pair = pair_of(first, second)
    decided = services.decide(pair, reviewer, "confirm", keep=first.pk, comment="Same person, two lists.")
    assert fresh(second).duplicate_of_id == first.pk
    assert fresh(first).duplicate_of_id is None
    assert (decided.status, decided.kept_id, decided.decided_by_id) == ("confirmed", first.pk, reviewer.pk)
    assert decided.comment == "Same person, two lists."
    assert decided.decided_at is not None
    assert decided.version == 2


def test_a_merge_raises_the_marked_records_version_so_new_count_fingerprints_differ(reviewer, two_records):
    first, second = two_records
    before = (fresh(first).version, fresh(second).version)
    services.decide(pair_of(first, second), reviewer, "confirm", keep=first.pk)
    assert (fresh(first).version, fresh(second).version) == (before[0], before[1] + 1)


def test_dismissing_a_pair_records_the_decision_and_changes_no_record(reviewer, two_records):
    first, second = two_records
    versions = (fresh(first).version, fresh(second).version)
    decided = services.decide(pair_of(first, second), reviewer, "dismiss", comment="Brothers, not one man.")
    assert (decided.status, decided.kept_id, decided.comment) == ("dismissed", None, "Brothers, not one man.")
    assert (fresh(first).duplicate_of_id, fresh(second).duplicate_of_id) == (None, None)
    assert (fresh(first).version, fresh(second).version) == versions


def test_an_admin_may_decide_a_pair(admin_user, two_records):
    first, second = two_records
    assert services.decide(pair_of(first, second), admin_user, "confirm", keep=second.pk).status == "confirmed"
    assert fresh(first).duplicate_of_id == second.pk


@pytest.mark.parametrize("actor", ["documenter", "second_documenter", "outsider"])
def test_only_reviewers_and_admins_decide_pairs(request, actor, two_records):
    first, second = two_records
    pair = pair_of(first, second)
    with pytest.raises(PermissionDenied):
        services.decide(pair, request.getfixturevalue(actor), "confirm", keep=first.pk)
    assert CandidatePair.objects.get(pk=pair.pk).status == "candidate"
    assert fresh(second).duplicate_of_id is None


def test_nobody_decides_a_pair_whose_two_records_they_both_authored(admin_user):
    first = verified_victim(admin_user, name="Omar")
    second = verified_victim(admin_user, name="Omar")
    pair = pair_of(first, second)
    with pytest.raises(PermissionDenied, match="four eyes"):
        services.decide(pair, admin_user, "dismiss")
    assert CandidatePair.objects.get(pk=pair.pk).status == "candidate"


def test_authoring_one_of_the_two_records_does_not_stop_a_decision(admin_user, documenter):
    first = verified_victim(admin_user, name="Omar")
    second = verified_victim(documenter, name="Omar")
    assert services.decide(pair_of(first, second), admin_user, "dismiss").status == "dismissed"


def test_a_second_decision_on_a_pair_is_a_conflict_and_changes_nothing(reviewer, second_reviewer, two_records):
    first, second = two_records
    pair = pair_of(first, second)
    stale = CandidatePair.objects.get(pk=pair.pk)
    services.decide(pair, reviewer, "confirm", keep=first.pk)
    with pytest.raises(IllegalTransition, match="already decided"):
        services.decide(stale, second_reviewer, "dismiss")
    after = CandidatePair.objects.get(pk=pair.pk)
    assert (after.status, after.decided_by_id, after.version) == ("confirmed", reviewer.pk, 2)
    assert fresh(second).duplicate_of_id == first.pk


def test_a_decision_against_a_version_that_is_no_longer_current_is_a_conflict(reviewer, two_records):
    first, second = two_records
    pair = pair_of(first, second)
    CandidatePair.objects.filter(pk=pair.pk).update(version=5)  # a re-scan refreshed its score meanwhile
    with pytest.raises(IllegalTransition, match="same moment"):
        services.decide(pair, reviewer, "confirm", keep=first.pk, version=4)
    assert CandidatePair.objects.get(pk=pair.pk).status == "candidate"
    assert fresh(second).duplicate_of_id is None


def test_keeping_a_record_outside_the_pair_is_refused(reviewer, documenter, two_records):
    first, second = two_records
    third = verified_victim(documenter)
    with pytest.raises(ValidationError) as refused:
        services.decide(pair_of(first, second), reviewer, "confirm", keep=third.pk)
    assert "keep" in refused.value.message_dict
    assert fresh(first).duplicate_of_id is None and fresh(second).duplicate_of_id is None


def test_confirming_without_choosing_the_record_kept_is_refused(reviewer, two_records):
    with pytest.raises(ValidationError) as refused:
        services.decide(pair_of(*two_records), reviewer, "confirm")
    assert "keep" in refused.value.message_dict


def test_an_unknown_decision_is_refused(reviewer, two_records):
    with pytest.raises(ValidationError) as refused:
        services.decide(pair_of(*two_records), reviewer, "merge", keep=two_records[0].pk)
    assert "decision" in refused.value.message_dict


def test_a_pair_with_a_record_the_reviewer_cannot_see_reads_as_absent(reviewer, documenter, second_documenter):
    seen = verified_victim(documenter)
    draft = make_victim(second_documenter, make_incident(second_documenter))  # another person's draft
    pair = pair_of(seen, draft)
    with pytest.raises(Http404):
        services.decide(pair, reviewer, "confirm", keep=seen.pk)
    assert fresh(draft).duplicate_of_id is None


# --- Groups of one person -------------------------------------------------------------------------


def test_confirming_a_pair_keeping_a_record_that_is_itself_a_duplicate_keeps_its_kept_record(
    reviewer, documenter, two_records
):
    first, second = two_records
    third = verified_victim(documenter, name="Ahmad Khalid")
    services.decide(pair_of(first, second), reviewer, "confirm", keep=first.pk)  # second -> first
    decided = services.decide(pair_of(second, third), reviewer, "confirm", keep=second.pk)
    assert fresh(third).duplicate_of_id == first.pk  # no chain: third -> first, not third -> second
    assert fresh(second).duplicate_of_id == first.pk
    assert decided.kept_id == first.pk


def test_a_group_joining_another_is_re_pointed_to_the_record_kept_so_no_chain_remains(reviewer, documenter):
    a, b, c, d = (verified_victim(documenter, name=f"Samir {n}") for n in "ABCD")
    services.decide(pair_of(a, b), reviewer, "confirm", keep=a.pk)  # group {a: b}
    services.decide(pair_of(c, d), reviewer, "confirm", keep=c.pk)  # group {c: d}
    services.decide(pair_of(b, d), reviewer, "confirm", keep=d.pk)  # d's kept record c keeps everyone
    assert {v.pk: v.duplicate_of_id for v in map(fresh, (a, b, c, d))} == {
        a.pk: c.pk,
        b.pk: c.pk,
        c.pk: None,
        d.pk: c.pk,
    }
    assert not Victim.objects.filter(duplicate_of__duplicate_of__isnull=False).exists()


def test_confirming_a_pair_already_in_one_group_changes_no_record(reviewer, documenter):
    a, b, c = (verified_victim(documenter, name=f"Hasan {n}") for n in "ABC")
    services.decide(pair_of(a, b), reviewer, "confirm", keep=a.pk)
    services.decide(pair_of(a, c), reviewer, "confirm", keep=a.pk)
    versions = [fresh(v).version for v in (a, b, c)]
    decided = services.decide(pair_of(b, c), reviewer, "confirm", keep=c.pk)
    assert decided.status == "confirmed" and decided.kept_id == a.pk
    assert [fresh(v).version for v in (a, b, c)] == versions
    assert [fresh(v).duplicate_of_id for v in (a, b, c)] == [None, a.pk, a.pk]


# --- Audit ------------------------------------------------------------------------------------------


def test_every_decision_is_audited_without_identity_numbers_or_dates_of_birth(reviewer, documenter):
    import datetime as dt

    first = verified_victim(documenter, identity_number="0123456789", date_of_birth=dt.date(1990, 3, 4))
    second = verified_victim(documenter, identity_number="0123456789", date_of_birth=dt.date(1990, 3, 4))
    pair = pair_of(first, second)
    services.decide(pair, reviewer, "confirm", keep=first.pk, comment="Same man.")
    entry = AuditEntry.objects.for_target(pair).get()
    assert (entry.action, entry.actor_id, entry.from_state, entry.to_state) == (
        "duplicate_pair.confirm",
        reviewer.pk,
        "candidate",
        "confirmed",
    )
    assert entry.comment == "Same man."
    assert entry.details["kept"] == first.pk and entry.details["marked"] == [second.pk]
    marked = AuditEntry.objects.for_target(second).get(action="victim.mark_duplicate")
    assert marked.details == {"duplicate_of": first.pk, "pair": pair.pk}
    written = json.dumps([e.details for e in AuditEntry.objects.all()]) + "".join(
        e.comment for e in AuditEntry.objects.all()
    )
    assert "0123456789" not in written and "1990-03-04" not in written


def test_a_dismissal_is_audited(reviewer, two_records):
    pair = pair_of(*two_records)
    services.decide(pair, reviewer, "dismiss", comment="Different fathers.")
    entry = AuditEntry.objects.for_target(pair).get()
    assert (entry.action, entry.to_state, entry.comment) == (
        "duplicate_pair.dismiss",
        "dismissed",
        "Different fathers.",
    )


def test_a_refused_decision_writes_no_audit_entry(documenter, two_records):
    before = AuditEntry.objects.count()
    with pytest.raises(PermissionDenied):
        services.decide(pair_of(*two_records), documenter, "dismiss")
    assert AuditEntry.objects.count() == before


def test_a_draft_record_of_the_reviewers_own_is_not_hidden_from_them(admin_user, documenter):
    own_draft = make_victim(admin_user, make_incident(admin_user))
    other = verified_victim(documenter)
    assert services.decide(pair_of(own_draft, other), admin_user, "dismiss").status == "dismissed"
    assert fresh(own_draft).status == Status.DRAFT
