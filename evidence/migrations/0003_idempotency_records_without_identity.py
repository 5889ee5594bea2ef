"""Replay records written before identity was kept out of them: the witness identity goes.

Until now a `POST /api/v1/witnesses/` with an `Idempotency-Key` stored its whole answer, name,
contact and notes in clear (accounts.IdempotentRequest.response). Each such record keeps its other
fields and names the removed ones, so a replay re-derives them as new records do
(accounts/idempotency.py). On PostgreSQL the old row versions stay in the table file until
VACUUM: docs/security-data.md says to run `VACUUM (FULL) accounts_idempotentrequest` after this.
"""

from django.db import migrations

IDENTITY_FIELDS = ("name", "contact", "notes")
REMOVED, BODY = "protected_fields_removed", "body"


def is_witness_answer(body) -> bool:
    return (
        isinstance(body, dict)
        and str(body.get("code", "")).startswith("W-")
        and any(field in body for field in IDENTITY_FIELDS)
    )


def remove_identity(apps, schema_editor):
    IdempotentRequest = apps.get_model("accounts", "IdempotentRequest")
    for record in IdempotentRequest.objects.exclude(response=None).iterator():
        body = record.response
        if not is_witness_answer(body):
            continue
        removed = sorted(field for field in IDENTITY_FIELDS if field in body)
        kept = {key: value for key, value in body.items() if key not in IDENTITY_FIELDS}
        record.response = {REMOVED: removed, BODY: kept}
        record.save(update_fields=["response"])


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0002_roles_and_append_only_custody"),
        ("accounts", "0002_idempotent_requests"),
    ]

    operations = [migrations.RunPython(remove_identity, migrations.RunPython.noop)]
