"""Two reviewers deciding one pair at the same moment (PostgreSQL, two threads): exactly one wins."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from audit.models import AuditEntry
from incidents.models import Victim
from matching.models import CandidatePair
from tests.conftest import client_for, skip_or_fail, transactional
from tests.matching.review_helpers import pair_of, verified_victim


@transactional
@pytest.mark.parametrize(("first", "second"), [("confirm", "dismiss"), ("confirm", "confirm")])
def test_two_reviewers_deciding_one_pair_at_once_exactly_one_wins(
    documenter, second_documenter, reviewer, second_reviewer, first, second
):
    if connection.vendor != "postgresql":
        skip_or_fail("concurrent transactions need PostgreSQL")
    a = verified_victim(documenter, name="Nour")
    b = verified_victim(second_documenter, name="Nur")
    pair = pair_of(a, b)
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def decide(user, decision, keep):
        from django.db import connections

        try:
            barrier.wait(timeout=10)
            response = client_for(user).post(
                f"/api/v1/duplicates/{pair.pk}/decide/", {"decision": decision, "keep": keep}, format="json"
            )
            results[user.username] = response.status_code
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=decide, args=(reviewer, first, a.pk)),
        threading.Thread(target=decide, args=(second_reviewer, second, b.pk)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results.values()) == [200, 409]
    assert AuditEntry.objects.filter(action__startswith="duplicate_pair.").count() == 1
    decided = CandidatePair.objects.get(pk=pair.pk)
    assert decided.version == 2
    marked = Victim.objects.filter(pk__in=[a.pk, b.pk], duplicate_of__isnull=False).count()
    assert marked == (1 if decided.status == "confirmed" else 0)
