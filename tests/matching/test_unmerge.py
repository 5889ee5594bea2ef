"""Undoing a merge (matching.services.unmerge): who may, the reason, the pairs reopened, the audit entry."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEntry
from incidents.workflow import IllegalTransition
from matching import services
from matching.models import CandidatePair
from tests.matching.review_helpers import fresh, pair_of, verified_victim

pytestmark = pytest.mark.django_db


@pytest.fixture
def merged(reviewer, documenter, second_documenter):
    kept = verified_victim(documenter, name="Yusuf")
    duplicate = verified_victim(second_documenter, name="Yousef")
    pair = services.decide(pair_of(kept, duplicate), reviewer, "confirm", keep=kept.pk)
    return kept, duplicate, pair


def test_unmerging_clears_duplicate_of_and_returns_the_pair_to_the_queue(second_reviewer, merged):
    _kept, duplicate, pair = merged
    services.unmerge(fresh(duplicate), second_reviewer, "Different fathers' names in the ministry list.")
    assert fresh(duplicate).duplicate_of_id is None
    reopened = CandidatePair.objects.get(pk=pair.pk)
    assert (reopened.status, reopened.kept_id, reopened.decided_by_id, reopened.decided_at) == (
        "candidate",
        None,
        None,
        None,
    )
    assert reopened.version == pair.version + 1


def test_unmerging_raises_the_records_version(second_reviewer, merged):
    _kept, duplicate, _pair = merged
    before = fresh(duplicate).version
    services.unmerge(fresh(duplicate), second_reviewer, "Not the same man.")
    assert fresh(duplicate).version == before + 1


def test_unmerging_needs_a_reason(second_reviewer, merged):
    _kept, duplicate, _pair = merged
    with pytest.raises(ValidationError) as refused:
        services.unmerge(fresh(duplicate), second_reviewer, "  ")
    assert "reason" in refused.value.message_dict
    assert fresh(duplicate).duplicate_of_id is not None


@pytest.mark.parametrize("actor", ["documenter", "second_documenter", "outsider"])
def test_only_reviewers_and_admins_unmerge(request, actor, merged):
    _kept, duplicate, _pair = merged
    with pytest.raises(PermissionDenied):
        services.unmerge(fresh(duplicate), request.getfixturevalue(actor), "Not the same man.")
    assert fresh(duplicate).duplicate_of_id is not None


def test_a_record_that_is_no_duplicate_cannot_be_unmerged(second_reviewer, documenter):
    alone = verified_victim(documenter)
    with pytest.raises(IllegalTransition, match="not marked"):
        services.unmerge(alone, second_reviewer, "Why not.")


def test_the_kept_record_of_a_group_is_not_unmerged_itself(second_reviewer, merged):
    kept, duplicate, _pair = merged
    with pytest.raises(IllegalTransition, match="kept record"):
        services.unmerge(fresh(kept), second_reviewer, "Wrong.")
    assert fresh(duplicate).duplicate_of_id == kept.pk


def test_unmerging_one_record_of_a_group_of_three_leaves_the_others_together(reviewer, admin_user, documenter):
    a, b, c = (verified_victim(documenter, name=f"Ali {n}") for n in "ABC")
    ab = services.decide(pair_of(a, b), reviewer, "confirm", keep=a.pk)
    ac = services.decide(pair_of(a, c), reviewer, "confirm", keep=a.pk)
    bc = services.decide(pair_of(b, c), reviewer, "confirm", keep=b.pk)
    services.unmerge(fresh(b), admin_user, "B is his cousin.")
    assert [fresh(v).duplicate_of_id for v in (a, b, c)] == [None, None, a.pk]
    states = dict(CandidatePair.objects.values_list("pk", "status"))
    assert states == {ab.pk: "candidate", ac.pk: "confirmed", bc.pk: "candidate"}


def test_an_unmerge_is_audited_with_its_reason_and_the_pairs_reopened(second_reviewer, merged):
    kept, duplicate, pair = merged
    services.unmerge(fresh(duplicate), second_reviewer, "Different mothers.")
    entry = AuditEntry.objects.for_target(duplicate).get(action="victim.unmerge")
    assert (entry.actor_id, entry.comment) == (second_reviewer.pk, "Different mothers.")
    assert entry.details == {"was_duplicate_of": kept.pk, "reopened_pairs": [pair.pk]}
    reopened = AuditEntry.objects.for_target(pair).get(action="duplicate_pair.reopen")
    assert (reopened.from_state, reopened.to_state) == ("confirmed", "candidate")


def test_a_reopened_pair_may_be_decided_again(second_reviewer, reviewer, merged):
    _kept, duplicate, pair = merged
    services.unmerge(fresh(duplicate), second_reviewer, "Checked again.")
    again = services.decide(CandidatePair.objects.get(pk=pair.pk), reviewer, "dismiss", comment="Two men.")
    assert again.status == "dismissed"
    assert fresh(duplicate).duplicate_of_id is None
