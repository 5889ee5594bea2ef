"""The import pages in English and Arabic: choose a file and name its list, a dry run's preview (columns as
understood, the first rows, the first errors), import it, follow its progress, its summary; refusals with reasons."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from incidents.models import Victim
from intake.models import Import
from tests.conftest import web_client_for
from tests.intake.conftest import csv_bytes, moh_people, moh_rows


def check_file(client, content: bytes, language: str = "en", name: str = "list.csv", source: str = "MoH 2024-04-13"):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            f"/{language}/imports/",
            {"file": SimpleUploadedFile(name, content, content_type="text/csv"), "source": source},
        )


def with_errors() -> bytes:
    rows = moh_rows(moh_people(8))
    rows[3][rows[0].index("age_years")] = "200"
    return csv_bytes(rows)


def test_the_imports_page_offers_the_form_and_the_columns_in_both_languages(documenter):
    client = web_client_for(documenter)
    english = client.get("/en/imports/")
    assert english.status_code == 200
    assert b"Check the file" in english.content and b"record_id" in english.content
    arabic = client.get("/ar/imports/")
    assert arabic.status_code == 200
    text = arabic.content.decode()
    assert 'dir="rtl"' in text and "افحص الملف" in text and "معرّف الصف في القائمة المصدر" in text


def test_checking_a_file_is_a_dry_run_whose_page_shows_the_columns_first_rows_and_first_errors(documenter):
    client = web_client_for(documenter)
    response = check_file(client, with_errors())
    record = Import.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/en/imports/{record.pk}/"
    assert record.dry_run and record.status == "done" and not Victim.objects.exists()
    page = client.get(f"/en/imports/{record.pk}/").content.decode()
    assert "Victim: name in Arabic" in page  # the meaning understood for name_ar
    assert moh_people(1)[0]["name"].strip() in page  # the first rows, as read
    assert "Ensure this value is less than or equal to 130." in page  # the first errors
    assert f"/api/v1/imports/{record.pk}/errors/?format=xlsx" in page
    assert f"/api/v1/imports/{record.pk}/errors/?format=csv" in page
    assert f'action="/en/imports/{record.pk}/import/"' in page
    arabic = client.get(f"/ar/imports/{record.pk}/").content.decode()
    assert "الضحية: الاسم بالعربية" in arabic and "تحقق من أن تكون هذه القيمة أقل من 130 أو مساوية لها." in arabic
    assert "UTF-8" in arabic and "فاصلة" in arabic


def test_importing_a_checked_file_writes_its_rows_and_shows_the_summary(documenter):
    client = web_client_for(documenter)
    check_file(client, with_errors())
    dry = Import.objects.get()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/en/imports/{dry.pk}/import/", {"submit": "on"})
    real = Import.objects.exclude(pk=dry.pk).get()
    assert response.status_code == 302 and response["Location"] == f"/en/imports/{real.pk}/"
    assert (real.preview_of_id, real.sha256, real.submit, real.dry_run) == (dry.pk, dry.sha256, True, False)
    assert real.status == "done" and Victim.objects.count() == 7
    assert set(Victim.objects.values_list("status", flat=True)) == {"submitted"}
    page = client.get(f"/en/imports/{real.pk}/").content.decode()
    assert "Victims created" in page and "Incidents sent for review" in page
    again = client.get(f"/en/imports/{dry.pk}/").content.decode()
    assert f'href="/en/imports/{real.pk}/"' in again and "/import/" not in again  # carried out once


def test_the_progress_address_answers_in_the_pages_language(documenter):
    client = web_client_for(documenter)
    check_file(client, with_errors())
    record = Import.objects.get()
    english = client.get(f"/en/imports/{record.pk}/progress/").json()
    assert english == {
        "status": "done",
        "label": "Done",
        "stage": "finished",
        "rows_done": 8,
        "rows_total": 8,
        "text": "8 of 8 rows read",
        "finished": True,
    }
    arabic = client.get(f"/ar/imports/{record.pk}/progress/").json()
    assert (arabic["label"], arabic["text"]) == ("اكتمل", "قُرئ 8 من 8 صفوف")


def test_refused_files_say_why_on_the_page(documenter, settings):
    client = web_client_for(documenter)
    response = check_file(client, b"\x89PNG\r\n\x1a\n" + b"\x00" * 200, name="photo.csv")
    assert response.status_code == 415 and "This is not a CSV or XLSX file" in response.content.decode()
    response = check_file(client, b"", name="empty.csv")
    assert response.status_code == 400 and "The file is empty." in response.content.decode()
    response = check_file(client, csv_bytes(moh_rows(moh_people(3))), source="")
    assert response.status_code == 400 and "Name the source list" in response.content.decode()
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    response = check_file(client, csv_bytes(moh_rows(moh_people(30))))
    assert response.status_code == 413 and "larger than the upload limit" in response.content.decode()
    arabic = check_file(client, b"", language="ar", name="empty.csv")
    assert arabic.status_code == 400 and "الملف فارغ" in arabic.content.decode()
    assert not Import.objects.exists()


def test_a_failed_import_can_be_run_again_from_its_page(documenter):
    client = web_client_for(documenter)
    check_file(client, b"nothing,known\r\n1,2\r\n")
    record = Import.objects.get()
    assert record.status == "failed"
    page = client.get(f"/en/imports/{record.pk}/").content.decode()
    assert "The header row has errors" in page and "Run it again" in page
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(f"/en/imports/{record.pk}/run-again/")
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == "failed" and record.attempts == 2  # the same header, the same answer
    assert record.errors.filter(row=1).count() == record.summary["errors"]


def test_the_list_shows_the_users_own_imports_and_an_admin_every_import(documenter, second_documenter, admin_user):
    check_file(web_client_for(documenter), with_errors(), source="Mine")
    check_file(web_client_for(second_documenter), with_errors(), source="Theirs")
    mine = web_client_for(documenter).get("/en/imports/").content.decode()
    assert "Mine" in mine and "Theirs" not in mine
    every = web_client_for(admin_user).get("/en/imports/").content.decode()
    assert "Mine" in every and "Theirs" in every
