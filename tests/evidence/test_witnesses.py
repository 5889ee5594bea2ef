"""Witness identity: encrypted at rest, shown only where the permission allows, each showing audited."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection

from evidence import crypto, services
from evidence.models import Witness
from tests.conftest import client_for
from tests.evidence.conftest import CANARY_CONTACT, CANARY_NAME, KEY_A, KEY_B

URL = "/api/v1/witnesses/"


@pytest.fixture
def witness(documenter) -> Witness:
    response = client_for(documenter).post(
        URL, {"name": CANARY_NAME, "contact": CANARY_CONTACT, "notes": "met at the clinic"}, format="json"
    )
    assert response.status_code == 201, response.content
    return Witness.objects.get(pk=response.json()["id"])


def all_database_text() -> str:
    """Every value of every row of every table, as text (the audit log included)."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - names from introspection
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_registering_documenter_gets_the_identity_and_a_server_assigned_code(documenter, witness):
    body = client_for(documenter).get(f"{URL}{witness.pk}/").json()
    assert body["name"] == CANARY_NAME and body["contact"] == CANARY_CONTACT and body["notes"] == "met at the clinic"
    assert body["code"].startswith("W-") and len(body["code"]) == 10


def test_code_cannot_be_chosen_by_the_client(documenter):
    response = client_for(documenter).post(URL, {"name": "X", "code": "W-MINE"}, format="json")
    assert response.status_code == 201 and response.json()["code"] != "W-MINE"


@pytest.mark.parametrize(
    ("actor", "status", "sees_identity"),
    [
        ("documenter", 200, True),
        ("second_documenter", 404, False),
        ("reviewer", 200, False),
        ("admin_user", 200, True),
        ("outsider", 403, False),
        ("anonymous", 401, False),
    ],
)
def test_identity_is_present_only_for_the_registrar_and_permission_holders(
    request, witness, actor, status, sees_identity
):
    user = None if actor == "anonymous" else request.getfixturevalue(actor)
    response = client_for(user).get(f"{URL}{witness.pk}/")
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert body["code"] == witness.code
        if sees_identity:
            assert body["name"] == CANARY_NAME
        else:
            for field in ("name", "contact", "notes"):
                assert field not in body, "absent, not blanked"
            assert CANARY_NAME not in response.content.decode()


def test_identity_permission_can_be_granted_to_a_reviewer(reviewer, witness):
    reviewer.user_permissions.add(Permission.objects.get(codename="view_witness_identity"))
    reviewer = type(reviewer).objects.get(pk=reviewer.pk)  # fresh permission cache
    assert client_for(reviewer).get(f"{URL}{witness.pk}/").json()["name"] == CANARY_NAME


def test_each_identity_view_is_audited_without_the_identity(documenter, admin_user, reviewer, witness, caplog):
    caplog.set_level(logging.INFO)
    client_for(admin_user).get(f"{URL}{witness.pk}/")
    client_for(admin_user).get(URL)
    client_for(reviewer).get(f"{URL}{witness.pk}/")  # no identity shown → no identity entry
    entries = identity_view_entries()
    # The registration response showed the identity to its documenter, then the admin looked twice.
    assert [entry["actor_id"] for entry in entries] == [documenter.pk, admin_user.pk, admin_user.pk]
    for entry in entries:
        assert entry["details"] == {"code": witness.code}
    assert CANARY_NAME not in caplog.text and CANARY_CONTACT not in caplog.text


def identity_view_entries() -> list[dict]:
    from audit.models import AuditEntry

    return [
        {"actor_id": e.actor_id, "details": e.details}
        for e in AuditEntry.objects.filter(action="witness.identity_viewed").order_by("id")
    ]


def test_database_holds_no_plaintext_identity(witness):
    text = all_database_text()
    assert CANARY_NAME not in text and CANARY_CONTACT not in text and "met at the clinic" not in text
    row = Witness.objects.values("name_encrypted", "contact_encrypted", "notes_encrypted", "key_id").get(pk=witness.pk)
    assert row["name_encrypted"].startswith("v1:k1:") and row["key_id"] == "k1"


def test_two_witnesses_with_the_same_name_have_different_ciphertexts(documenter):
    first = services.register_witness(author=documenter, name="Same Name")
    second = services.register_witness(author=documenter, name="Same Name")
    assert first.name_encrypted != second.name_encrypted


def test_ciphertext_moved_to_another_witness_does_not_decrypt(documenter, witness):
    other = services.register_witness(author=documenter, name="Other")
    Witness.objects.filter(pk=other.pk).update(name_encrypted=witness.name_encrypted)
    other.refresh_from_db()
    with pytest.raises(crypto.UndecryptableValue):
        crypto.decrypt(other.name_encrypted, code=other.code, field="name")
    body = client_for(documenter).get(f"{URL}{other.pk}/").json()
    assert "name" not in body and "identity_error" in body


def test_key_rotation_re_encrypts_under_the_current_key(documenter, witness, settings):
    second = services.register_witness(author=documenter, name="Second witness")
    settings.WITNESS_KEYS = {"k1": KEY_A, "k2": KEY_B}
    settings.WITNESS_KEY_ID = "k2"
    call_command("rotate_witness_keys", "--dry-run")
    assert Witness.objects.filter(key_id="k1").count() == 2
    call_command("rotate_witness_keys")
    for row in Witness.objects.all():
        assert row.key_id == "k2"
        assert row.name_encrypted.startswith("v1:k2:")
        assert crypto.key_id_of(row.contact_encrypted) in (None, "k2")
    settings.WITNESS_KEYS = {"k2": KEY_B}  # the old key retired
    body = client_for(documenter).get(f"{URL}{witness.pk}/").json()
    assert body["name"] == CANARY_NAME and body["contact"] == CANARY_CONTACT
    assert client_for(documenter).get(f"{URL}{second.pk}/").json()["name"] == "Second witness"
    call_command("rotate_witness_keys")  # a second run finds nothing to do


def test_rotation_refuses_when_an_old_key_is_missing(witness, settings):
    settings.WITNESS_KEYS = {"k2": KEY_B}
    settings.WITNESS_KEY_ID = "k2"
    with pytest.raises(CommandError, match="could not be decrypted"):
        call_command("rotate_witness_keys")
    assert Witness.objects.get(pk=witness.pk).key_id == "k1"


def test_witness_identity_needs_configured_keys(documenter, settings):
    settings.WITNESS_KEYS = {}
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        services.register_witness(author=documenter, name="Nobody")


def test_reviewer_cannot_register_or_change_witnesses(reviewer, witness):
    assert client_for(reviewer).post(URL, {"name": "X"}, format="json").status_code == 403
    assert client_for(reviewer).patch(f"{URL}{witness.pk}/", {"name": "Y"}, format="json").status_code == 403


def test_registrar_can_correct_the_identity_and_others_cannot(documenter, second_documenter, witness):
    response = client_for(documenter).patch(f"{URL}{witness.pk}/", {"contact": "+963-new"}, format="json")
    assert response.status_code == 200 and response.json()["contact"] == "+963-new"
    assert response.json()["name"] == CANARY_NAME
    assert client_for(second_documenter).patch(f"{URL}{witness.pk}/", {"name": "Z"}, format="json").status_code == 404


@pytest.mark.parametrize("name", ["bad\u202ename", "nul\x00name", ""])
def test_bad_identity_values_are_400(documenter, name):
    response = client_for(documenter).post(URL, {"name": name}, format="json")
    assert response.status_code == 400 and "name" in response.json()
    assert not Witness.objects.exists()


def test_arabic_and_persian_names_round_trip_byte_identical(documenter):
    name = "محمّد نورِ\u200cجهان"
    response = client_for(documenter).post(URL, {"name": name}, format="json")
    assert response.status_code == 201
    assert client_for(documenter).get(f"{URL}{response.json()['id']}/").json()["name"] == name


def test_canary_name_appears_only_where_the_permission_allows(
    documenter,
    second_documenter,
    reviewer,
    admin_user,
    incident,
    caplog,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """Every response, log line, audit entry and task message, across roles and endpoints."""
    from celery.app.task import Task

    caplog.set_level(logging.DEBUG)
    task_messages: list[str] = []
    original_apply_async = Task.apply_async

    def recording_apply_async(self, args=None, kwargs=None, **options):
        task_messages.append(json.dumps([self.name, args, kwargs], default=str))
        return original_apply_async(self, args, kwargs, **options)

    monkeypatch.setattr(Task, "apply_async", recording_apply_async)

    created = client_for(documenter).post(URL, {"name": CANARY_NAME, "contact": CANARY_CONTACT}, format="json")
    witness_id = created.json()["id"]
    testimony = client_for(documenter).post(
        "/api/v1/testimonies/",
        {
            "incident": incident.pk,
            "witness": witness_id,
            "taken_on": "2020-01-16",
            "language": "ar",
            "statement": "The witness described the strike.",
            "consent_to_publish": False,
        },
        format="json",
    )
    assert testimony.status_code == 201, testimony.content
    allowed_responses = [created, client_for(documenter).get(f"{URL}{witness_id}/"), client_for(admin_user).get(URL)]
    for response in allowed_responses:
        assert CANARY_NAME in response.content.decode()

    from incidents.models import Incident, Status
    from tests.evidence.conftest import jpeg_with_everything, upload

    Incident.objects.filter(pk=incident.pk).update(status=Status.DRAFT)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(documenter).post(
            "/api/v1/media/", {"file": upload(jpeg_with_everything()), "incident": incident.pk}, format="multipart"
        )
    Incident.objects.filter(pk=incident.pk).update(status=Status.SUBMITTED)
    forbidden_responses = []
    for user in (reviewer, second_documenter, None):
        client = client_for(user)
        forbidden_responses += [
            client.get(URL),
            client.get(f"{URL}{witness_id}/"),
            client.get("/api/v1/testimonies/"),
            client.get(f"/api/v1/testimonies/{testimony.json()['id']}/"),
            client.get("/api/v1/media/"),
            client.get(f"/api/v1/incidents/{incident.pk}/"),
            client.patch(f"{URL}{witness_id}/", {"name": "x\u202e"}, format="json"),
        ]
    # Errors echo nothing back either.
    forbidden_responses.append(client_for(documenter).post(URL, {"name": CANARY_NAME + "\u202e"}, format="json"))
    forbidden_responses.append(client_for(documenter).post(URL, {"name": CANARY_NAME * 40}, format="json"))
    for response in forbidden_responses:
        assert CANARY_NAME not in response.content.decode(), response.wsgi_request.path
    assert CANARY_NAME not in caplog.text and CANARY_CONTACT not in caplog.text
    assert task_messages and all(CANARY_NAME not in message for message in task_messages)
    assert CANARY_NAME not in all_database_text()


def test_error_reports_of_witness_requests_mask_the_identity(documenter, monkeypatch):
    from django.views.debug import ExceptionReporter

    def broken_encrypt(plaintext, **kwargs):
        raise RuntimeError("simulated failure while sealing")

    monkeypatch.setattr(crypto, "encrypt", broken_encrypt)
    client = client_for(documenter)
    client.raise_request_exception = False
    response = client.post(URL, {"name": CANARY_NAME, "contact": CANARY_CONTACT}, format="json")
    assert response.status_code == 500
    assert CANARY_NAME not in response.content.decode()
    reporter = ExceptionReporter(response.wsgi_request, *response.exc_info)
    for report in (reporter.get_traceback_text(), reporter.get_traceback_html()):
        assert "simulated failure while sealing" in report
        assert CANARY_NAME not in report and CANARY_CONTACT not in report
    assert not Witness.objects.exists()


def test_deploy_check_refuses_production_without_witness_keys(settings):
    from django.core import checks

    settings.WITNESS_KEYS = {}
    errors = [m for m in checks.run_checks(include_deployment_checks=True) if m.id == "evidence.E001"]
    assert errors and "WITNESS_KEYS" in errors[0].msg
    settings.WITNESS_KEYS = {"k1": KEY_A}
    assert not [m for m in checks.run_checks(include_deployment_checks=True) if m.id.startswith("evidence.")]


@pytest.mark.parametrize(
    ("keys", "problem"),
    [({"k1": "bm90LWJhc2U2NA"}, "base64"), ({"k1": "c2hvcnQ="}, "32 bytes")],
)
def test_malformed_keys_are_named(settings, keys, problem):
    from django.core.exceptions import ImproperlyConfigured

    settings.WITNESS_KEYS = keys
    with pytest.raises(ImproperlyConfigured, match=problem):
        crypto.current_key_id()


def test_witness_keys_are_read_from_the_environment(monkeypatch, tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    from config import settings as project_settings

    monkeypatch.setenv("WITNESS_KEYS", f"old:{KEY_A}, new:{KEY_B}")
    monkeypatch.setenv("WITNESS_KEY_ID", "old")
    assert project_settings.load_witness_keys() == ({"old": KEY_A, "new": KEY_B}, "old")
    monkeypatch.delenv("WITNESS_KEY_ID")
    assert project_settings.load_witness_keys()[1] == "new", "the last key is current by default"
    monkeypatch.setenv("WITNESS_KEY_ID", "gone")
    with pytest.raises(ImproperlyConfigured):
        project_settings.load_witness_keys()
    monkeypatch.setenv("WITNESS_KEYS", "no-colon-here")
    with pytest.raises(ImproperlyConfigured):
        project_settings.load_witness_keys()
    # Production without keys: none (identity refuses to work, check --deploy says why).
    monkeypatch.delenv("WITNESS_KEYS")
    monkeypatch.delenv("WITNESS_KEY_ID")
    assert project_settings.load_witness_keys() == ({}, "")
    # Development without keys: one generated under var/, the same on every start.
    monkeypatch.setattr(project_settings, "DEBUG", True)
    monkeypatch.setattr(project_settings, "VAR_DIR", tmp_path)
    first = project_settings.load_witness_keys()
    assert first[1] == "dev" and len(__import__("base64").b64decode(first[0]["dev"])) == 32
    assert project_settings.load_witness_keys() == first
    assert (tmp_path / "dev_witness_key").stat().st_mode & 0o077 == 0


def never_stored(response) -> bool:
    directives = {part.strip() for part in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


def test_every_response_carrying_identity_forbids_caching(documenter):
    client = client_for(documenter)
    body = {"name": CANARY_NAME, "contact": CANARY_CONTACT}
    created = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="cache-1")
    replayed = client.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="cache-1")
    detail = client.get(f"{URL}{created.json()['id']}/")
    listed = client.get(URL)
    changed = client.patch(f"{URL}{created.json()['id']}/", {"notes": "moved"}, format="json")
    assert replayed["Idempotent-Replayed"] == "true"
    for response in (created, replayed, detail, listed, changed):
        assert CANARY_NAME in response.content.decode(), "the identity is in this response"
        assert never_stored(response), (response.wsgi_request.method, response.wsgi_request.path)


def test_the_migration_removes_identity_from_replay_records_stored_before_the_fix(documenter):
    import importlib

    from django.apps import apps

    from accounts.models import IdempotentRequest

    migration = importlib.import_module("evidence.migrations.0003_idempotency_records_without_identity")
    body = {"name": CANARY_NAME, "contact": CANARY_CONTACT, "notes": "n"}
    first = client_for(documenter).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="before-the-fix")
    # As the code before the fix stored it: the whole answer, identity in clear.
    IdempotentRequest.objects.filter(key="before-the-fix").update(response=first.json())
    incident_answer = {"id": 7, "title": "name"}
    other = IdempotentRequest.objects.create(
        user=documenter, key="incident", fingerprint="f", status_code=201, response=incident_answer
    )
    migration.remove_identity(apps, None)
    stored = json.dumps(IdempotentRequest.objects.get(key="before-the-fix").response)
    assert CANARY_NAME not in stored and CANARY_CONTACT not in stored and first.json()["code"] in stored
    assert IdempotentRequest.objects.get(pk=other.pk).response == incident_answer
    replay = client_for(documenter).post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="before-the-fix")
    assert replay["Idempotent-Replayed"] == "true" and replay.json() == first.json()
