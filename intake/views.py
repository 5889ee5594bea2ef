"""Import pages (under /en/ and /ar/): choose a file and name its list, see a dry run's preview, import it,
follow its progress, read its summary and download its errors.

Each view fetches through `Import.objects.visible_to(user)`, calls a service, and renders; refusals are pages
with a reason and the matching status (403, 404, 409, 413, 415, 400).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language, gettext_lazy, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.idempotency import once_per_form
from config.pages import back_to, message_of, refusals_as_pages
from evidence.uploads import HashingUploadHandler
from incidents import roles
from incidents.listing import Column, Listing

from . import readers, services
from .filters import ImportFilter
from .models import Import
from .rows import COLUMNS

ENCODINGS = {
    "utf-8-sig": gettext_lazy("UTF-8 with a byte-order mark"),
    "utf-8": "UTF-8",
    "cp1256": gettext_lazy("Windows-1256 (Arabic)"),
}


def _term(text: str) -> str:
    # Technical names stay in Latin letters on Arabic pages, marked as such (and kept left to right).
    return format_html('<span lang="en" dir="ltr">{}</span>', text)


TERMS = {
    "csv": "CSV",
    "xlsx": "XLSX",
    "utf8": "UTF-8",
    "cp1256": "Windows-1256",
    "record_id": "record_id",
    "sha256": "SHA-256",
}


def _terms() -> dict[str, str]:
    return {key: _term(text) for key, text in TERMS.items()}


def _visible(request: HttpRequest, pk: int) -> Import:
    services.require_import_reader(request.user)
    return get_object_or_404(Import.objects.visible_to(request.user).select_related("created_by"), pk=pk)


def _arabic() -> bool:
    return (get_language() or "").startswith("ar")


def _column_guide() -> list[dict[str, str]]:
    return [{"column": name, "meaning": str(column.meaning)} for name, column in COLUMNS.items()]


def _list_page(request: HttpRequest, errors: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    """The upload form and the imports list (incidents/listing.py: pages with the total, page size, sorting,
    and the status, source and kind filters, all in the URL)."""
    everyone = roles.can_manage_counts(request.user)
    columns = [
        Column("number", _("Number"), ("pk",)),
        Column("source", _("Source list"), ("source", "pk")),
        Column("kind", _("Kind")),
        Column("status", _("Status"), ("status", "pk")),
        Column("rows", _("Rows"), css="num"),
        Column("errors", _("Errors"), css="num"),
    ]
    if everyone:
        columns.append(Column("by", _("By"), ("created_by__username", "pk")))
    columns.append(Column("started", _("Started"), ("created_at", "pk")))
    listing = Listing(
        request,
        Import.objects.visible_to(request.user).select_related("created_by"),
        columns=columns,
        default_sort="-started",
        filterset_class=ImportFilter,
        label=_("Filter the imports"),
    )
    return render(
        request,
        "intake/imports.html",
        {
            "listing": listing,
            "errors": errors or {},
            "source": request.POST.get("source", "") if request.method == "POST" else "",
            "columns": _column_guide(),
            "may_import": services.may_import(request.user),
            "limit_mb": settings.IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024),
            "everyone": everyone,
            "terms": _terms(),
        },
        status=max(status, listing.status),
    )


def _file_refusal(request: HttpRequest, exc: Exception, message: str, status: int) -> HttpResponse | None:
    """A file that cannot be taken is answered on the imports page, beside the file field."""
    if status in (400, 413, 415):
        return _list_page(request, {"file": message}, status)
    return None


@csrf_exempt  # the CSRF token is checked below, once the streaming upload handler is in place
@login_required
@refusals_as_pages(
    on_refusal=_file_refusal,
    statuses={readers.UnsupportedFile: 415, readers.EmptyFile: 400, readers.UnreadableFile: 400},
)
def imports(request: HttpRequest) -> HttpResponse:
    """The user's imports; a new file is checked first (a dry run) and imported from its preview."""
    services.require_import_reader(request.user)
    if request.method != "POST":
        return _list_page(request)
    services.require_importer(request.user)
    handler = HashingUploadHandler(request, limit=settings.IMPORT_MAX_UPLOAD_BYTES)
    request.upload_handlers = [handler]
    try:
        csrf_refusal = CsrfViewMiddleware(lambda r: None).process_view(request, None, (), {})
        if csrf_refusal is not None:
            return csrf_refusal
        upload = request.FILES.get("file")
        source = request.POST.get("source", "")
        if upload is None:
            return _list_page(request, {"file": _("Choose a CSV or XLSX file.")}, 400)
        try:
            services.clean_source(source)
        except ValidationError as exc:
            return _list_page(request, {"source": message_of(exc)}, 400)
        stored = services.store_upload(upload.temp_path, upload.sha256, upload.size)
        record = services.start_import(
            actor=request.user, stored=stored, source=source, dry_run=True, file_name=upload.name or ""
        )
    finally:
        handler.cleanup()
    return redirect("import-page", record.pk)


def progress_text(record: Import) -> str:
    if record.stage == Import.Stage.SUBMIT and record.status == Import.State.RUNNING:
        created = (record.summary or {}).get("incidents_created", 0)
        submitted = (record.summary or {}).get("submitted", 0)
        return _("Sending incidents for review: %(done)s of %(total)s") % {"done": submitted, "total": created}
    if record.rows_total:
        return ngettext("%(done)s of %(total)s row read", "%(done)s of %(total)s rows read", record.rows_total) % {
            "done": f"{record.rows_done:,}",
            "total": f"{record.rows_total:,}",
        }
    return ngettext("%(done)s row read", "%(done)s rows read", record.rows_done) % {"done": f"{record.rows_done:,}"}


def _summary_items(record: Import) -> list[tuple[str, int]]:
    summary = record.summary or {}
    labels = [
        ("rows", _("Rows")),
        ("incidents_created", _("Incidents created")),
        ("victims_created", _("Victims created")),
        ("updated", _("Rows updated")),
        ("unchanged", _("Rows unchanged")),
        ("rows_with_errors", _("Rows with errors")),
        ("errors", _("Errors")),
        ("sources_created", _("Documented sources created")),
    ]
    if record.submit:
        labels.append(("submitted", _("Incidents sent for review")))
    return [(label, int(summary.get(key, 0))) for key, label in labels]


@login_required
def import_page(request: HttpRequest, pk: int) -> HttpResponse:
    record = _visible(request, pk)
    arabic = _arabic()
    columns = [
        {"column": item["column"], "meaning": item.get("meaning_ar" if arabic else "meaning_en", "")}
        for item in record.columns or []
    ]
    errors = [
        {
            "row": error.row,
            "column": error.column,
            "value": error.value,
            "message": error.message_ar if arabic else error.message_en,
        }
        for error in services.first_errors(record)
    ]
    delimiter = {",": _("comma"), ";": _("semicolon"), "\t": _("tab"), "|": _("vertical bar")}.get(record.delimiter, "")
    carried_out = record.carried_out_by.order_by("-id").first() if record.dry_run else None
    total = record.rows_total or 0
    return render(
        request,
        "intake/import_detail.html",
        {
            "record": record,
            "columns": columns,
            "preview_columns": [item["column"] for item in columns],
            "preview": [
                {"row": row["row"], "values": [row["cells"].get(item["column"], "") for item in columns]}
                for row in record.preview or []
            ],
            "errors": errors,
            "more_errors": max(0, int((record.summary or {}).get("errors", 0)) - len(errors)),
            "summary": _summary_items(record),
            "encoding": str(ENCODINGS.get(record.encoding, "")),
            "delimiter": delimiter,
            "progress_text": progress_text(record),
            "percent": int(100 * record.rows_done / total) if total else 0,
            "carried_out": carried_out,
            "may_carry_out": record.dry_run
            and record.status == Import.State.DONE
            and record.created_by_id == request.user.pk
            and carried_out is None,
            "may_run_again": record.status == Import.State.FAILED
            and (record.created_by_id == request.user.pk or roles.can_manage_counts(request.user)),
            "failure": (record.failure_reason_ar if arabic else record.failure_reason) or record.failure_reason,
            "terms": _terms(),
        },
    )


@login_required
def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    """The import's progress, for the page's live progress bar (polled by intake/imports.js)."""
    record = _visible(request, pk)
    return JsonResponse(
        {
            "status": record.status,
            "label": str(record.get_status_display()),
            "stage": record.stage,
            "rows_done": record.rows_done,
            "rows_total": record.rows_total,
            "text": progress_text(record),
            "finished": record.is_over,
        },
        headers={"Cache-Control": "no-store"},
    )


@login_required
@require_POST
@once_per_form
@refusals_as_pages
def import_carry_out(request: HttpRequest, pk: int) -> HttpResponse:
    """Import for real the file a dry run checked."""
    record = _visible(request, pk)
    back_to(request, reverse("import-page", args=[pk]))
    created = services.carry_out(actor=request.user, dry_run=record, submit=request.POST.get("submit") == "on")
    return redirect("import-page", created.pk)


@login_required
@require_POST
@refusals_as_pages
def import_run_again(request: HttpRequest, pk: int) -> HttpResponse:
    record = _visible(request, pk)
    back = back_to(request, reverse("import-page", args=[pk]))
    services.run_again(actor=request.user, record=record)
    return redirect(back)
