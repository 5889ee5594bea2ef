"""The streaming CSV of counted victims: same bytes on every database, formula cells neutralised."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from counts import exports
from incidents.models import Status, Victim
from tests.conftest import client_for, location, make_incident, make_victim


@pytest.fixture
def victims(documenter):
    incident = make_incident(documenter, Status.VERIFIED, occurred_on=dt.date(2020, 1, 15), location=location("Idlib"))
    first = make_victim(documenter, incident, Status.VERIFIED, name="Ahmad", name_ar="أحمد", roles=["medical", "media"])
    second = make_victim(
        documenter,
        incident,
        Status.VERIFIED,
        name="",
        name_ar="سعاد",
        sex="female",
        age_years=None,
        age_group="unknown",
        date_of_death=dt.date(2020, 1, 17),
        place_of_death=location("Aleppo"),
    )
    # A legacy import could hold a formula-looking name; the export must never hand it to a spreadsheet.
    Victim.objects.filter(pk=second.pk).update(name='=HYPERLINK("http://x")')
    return [first, second]


def parse(payload: bytes) -> list[list[str]]:
    text = payload.decode("utf-8")
    assert text.startswith(exports.BOM)
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.django_db
def test_export_lists_every_victim_of_the_queryset_with_header_and_bom(victims):
    rows = parse(b"".join(exports.counted_victims_csv(Victim.objects.all())))

    assert rows[0] == exports.VICTIMS_HEADER
    assert [int(row[0]) for row in rows[1:]] == [v.pk for v in victims]
    first, second = rows[1], rows[2]
    assert first[2:8] == ["Ahmad", "أحمد", "male", "30", "man", "medical;media"]
    assert first[8:] == ["2020-01-15", "Idlib", "Idlib", "2020-01-15", "Syrian regime forces"]
    # Died two days later elsewhere: the date and place of death, with the place's governorate.
    assert second[3:9] == ["سعاد", "female", "", "unknown", "", "2020-01-17"]
    assert second[9:11] == ["Aleppo", "Aleppo"]


@pytest.mark.django_db
def test_formula_looking_cells_are_neutralised(victims):
    rows = parse(b"".join(exports.counted_victims_csv(Victim.objects.all())))
    assert rows[2][2] == '\'=HYPERLINK("http://x")'
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row[2:])


@pytest.mark.django_db
def test_database_path_and_python_path_write_the_same_bytes(victims):
    queryset = Victim.objects.filter(status=Status.VERIFIED)
    python_path = b"".join(exports.csv_chunks(exports.victim_rows(queryset)))
    assert b"".join(exports.counted_victims_csv(queryset)) == python_path


@pytest.mark.django_db
def test_an_empty_queryset_gives_the_header_only(victims):
    rows = parse(b"".join(exports.counted_victims_csv(Victim.objects.none())))
    assert rows == [exports.VICTIMS_HEADER]


# --- GET /api/v1/counts/<id>/victims.csv ---------------------------------------------------------


def done_snapshot(admin, date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 12, 31)):
    from counts import services as count_services

    snapshot = count_services.request_count(actor=admin, enqueue=False, date_from=date_from, date_to=date_to)
    return count_services.run_count(snapshot.pk)


def streamed(response) -> bytes:
    assert response.streaming
    return b"".join(response.streaming_content)


@pytest.mark.django_db
def test_admin_streams_every_counted_victim_of_a_snapshot(victims, documenter, admin_user):
    from audit.models import AuditEntry

    incident = victims[0].incident
    make_victim(documenter, incident, Status.VERIFIED, civilian_status="combatant")  # not counted
    make_victim(documenter, incident, Status.SUBMITTED)  # not counted
    snapshot = done_snapshot(admin_user)
    before = AuditEntry.objects.count()

    response = client_for(admin_user).get(f"/api/v1/counts/{snapshot.pk}/victims.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="count-')
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Count-Fingerprint"] == snapshot.fingerprint
    rows = parse(streamed(response))
    assert [int(row[0]) for row in rows[1:]] == [v.pk for v in victims]
    assert len(rows) - 1 == snapshot.result["civilians"]["total"]
    entry = AuditEntry.objects.order_by("-sequence").first()
    assert AuditEntry.objects.count() == before + 1
    assert entry.action == "count.victims_exported"
    assert "أحمد" not in str(entry.details)


@pytest.mark.django_db
@pytest.mark.parametrize(("actor", "expected"), [("reviewer", 403), ("documenter", 403), (None, 401)])
def test_only_admins_may_export_counted_victims(victims, admin_user, request, actor, expected):
    from audit.models import AuditEntry

    snapshot = done_snapshot(admin_user)
    before = AuditEntry.objects.count()
    user = request.getfixturevalue(actor) if actor else None
    response = client_for(user).get(f"/api/v1/counts/{snapshot.pk}/victims.csv")
    assert response.status_code == expected
    assert not getattr(response, "streaming", False)
    assert AuditEntry.objects.filter(action="count.victims_exported").count() == 0
    assert AuditEntry.objects.count() >= before


@pytest.mark.django_db
def test_unfinished_or_missing_snapshots_are_refused(victims, admin_user):
    from counts import services as count_services

    pending = count_services.request_count(
        actor=admin_user, enqueue=False, date_from=dt.date(2020, 1, 1), date_to=dt.date(2020, 12, 31)
    )
    client = client_for(admin_user)
    assert client.get(f"/api/v1/counts/{pending.pk}/victims.csv").status_code == 409
    assert client.get("/api/v1/counts/999999/victims.csv").status_code == 404


@pytest.mark.django_db
def test_export_asks_for_csv_by_accept_header_without_406(victims, admin_user):
    snapshot = done_snapshot(admin_user)
    response = client_for(admin_user).get(f"/api/v1/counts/{snapshot.pk}/victims.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert parse(streamed(response))[0] == exports.VICTIMS_HEADER
