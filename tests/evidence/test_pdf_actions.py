"""The PDF working copy carries no action and no script: nothing runs, opens or calls out when it is viewed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    TextStringObject,
)

from evidence import media

SCRIPT = "app.alert('canary-script')"
# What must not survive anywhere in the working copy: keys that hold actions or scripts, and action types.
ACTION_KEYS = {"/AA", "/OpenAction", "/JS", "/JavaScript", "/EmbeddedFiles", "/EmbeddedFile", "/XFA", "/URI"}
ACTION_TYPES = {"/JavaScript", "/Launch", "/URI", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/Rendition"}
ACTIVE_ANNOTATIONS = {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}


def action(writer: PdfWriter, kind: str, **entries) -> IndirectObject:
    body = DictionaryObject({NameObject("/Type"): NameObject("/Action"), NameObject("/S"): NameObject(kind)})
    for key, value in entries.items():
        body[NameObject(f"/{key}")] = value
    return writer._add_object(body)


def javascript(writer: PdfWriter) -> IndirectObject:
    return action(writer, "/JavaScript", JS=TextStringObject(SCRIPT))


def annotation(writer: PdfWriter, subtype: str, **entries) -> IndirectObject:
    body = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject(subtype),
            NameObject("/Rect"): ArrayObject([FloatObject(10), FloatObject(10), FloatObject(90), FloatObject(30)]),
        }
    )
    for key, value in entries.items():
        body[NameObject(f"/{key}")] = value
    return writer._add_object(body)


def pdf_with_every_action() -> bytes:
    """One page with visible text, and an action or script in every place a viewer looks for one."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=200, height=200)
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 12 Tf 20 100 Td (Visible evidence text) Tj ET")
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Contents")] = writer._add_object(content)
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    # Page-level additional actions: on open and on close.
    page[NameObject("/AA")] = DictionaryObject(
        {NameObject("/O"): javascript(writer), NameObject("/C"): javascript(writer)}
    )
    field = writer._add_object(
        DictionaryObject(
            {
                NameObject("/FT"): NameObject("/Tx"),
                NameObject("/T"): TextStringObject("field"),
                NameObject("/AA"): DictionaryObject({NameObject("/K"): javascript(writer)}),
            }
        )
    )
    embedded = DecodedStreamObject()
    embedded.set_data(b"MZ canary executable")
    embedded[NameObject("/Type")] = NameObject("/EmbeddedFile")
    filespec = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Filespec"),
            NameObject("/F"): TextStringObject("payload.exe"),
            NameObject("/EF"): DictionaryObject({NameObject("/F"): writer._add_object(embedded)}),
        }
    )
    goto_then_script = action(
        writer, "/GoTo", D=ArrayObject([page.indirect_reference, NameObject("/Fit")]), Next=javascript(writer)
    )
    page[NameObject("/Annots")] = ArrayObject(
        [
            annotation(writer, "/Link", A=action(writer, "/URI", URI=TextStringObject("https://tracker.example/c"))),
            annotation(writer, "/Link", A=action(writer, "/Launch", F=TextStringObject("cmd.exe"))),
            annotation(writer, "/Link", A=goto_then_script),
            annotation(writer, "/Link", A=action(writer, "/SubmitForm", F=TextStringObject("https://x.example/"))),
            annotation(
                writer,
                "/Widget",
                Parent=field,
                A=javascript(writer),
                AA=DictionaryObject({NameObject("/E"): javascript(writer)}),
            ),
            annotation(writer, "/FileAttachment", FS=writer._add_object(filespec)),
            annotation(writer, "/Screen", A=action(writer, "/Rendition", JS=TextStringObject(SCRIPT))),
            annotation(
                writer, "/Text", Contents=TextStringObject("a reviewer's note"), T=TextStringObject("Author Name")
            ),
        ]
    )
    # Document level: open action, document actions, the JavaScript and embedded-file name trees, XFA.
    writer._root_object[NameObject("/OpenAction")] = javascript(writer)
    writer._root_object[NameObject("/AA")] = DictionaryObject({NameObject("/WC"): javascript(writer)})
    names = DictionaryObject(
        {
            NameObject("/JavaScript"): DictionaryObject(
                {NameObject("/Names"): ArrayObject([TextStringObject("init"), javascript(writer)])}
            ),
            NameObject("/EmbeddedFiles"): DictionaryObject(
                {NameObject("/Names"): ArrayObject([TextStringObject("payload.exe"), writer._add_object(filespec)])}
            ),
        }
    )
    writer._root_object[NameObject("/Names")] = names
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject(
        {NameObject("/Fields"): ArrayObject([field]), NameObject("/XFA"): TextStringObject("<xdp/>")}
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def every_object(reader: PdfReader) -> list:
    """Every dictionary and array reachable from the trailer (pages, annotations, catalog, streams)."""
    seen: set[tuple[int, int]] = set()
    found: list = []
    pending = [reader.trailer]
    while pending:
        value = pending.pop()
        if isinstance(value, IndirectObject):
            key = (value.idnum, value.generation)
            if key in seen:
                continue
            seen.add(key)
            value = value.get_object()
        if isinstance(value, DictionaryObject):
            found.append(value)
            pending.extend(value.values())
        elif isinstance(value, ArrayObject):
            pending.extend(value)
    return found


@pytest.fixture
def crafted(tmp_path: Path) -> tuple[PdfReader, PdfReader]:
    source = tmp_path / "crafted.pdf"
    source.write_bytes(pdf_with_every_action())
    original = PdfReader(source)
    assert original.pages[0]["/AA"], "the crafted file really carries actions"
    copies = media.pdf_working_copy(source, tmp_path)
    return original, PdfReader(copies.working)


def test_the_crafted_file_carries_every_kind_of_action(crafted):
    """The positive control: the checks below find what they look for in the original."""
    original, _working = crafted
    objects = every_object(original)
    keys = {key for obj in objects for key in obj}
    assert {"/AA", "/OpenAction", "/JS", "/JavaScript", "/EmbeddedFiles", "/XFA", "/URI"} <= keys
    types = {obj.get("/S") for obj in objects}
    assert {"/JavaScript", "/Launch", "/URI", "/SubmitForm", "/Rendition"} <= types


def test_the_working_copy_keeps_no_action_script_or_embedded_file(crafted):
    _original, working = crafted
    for obj in every_object(working):
        assert not ACTION_KEYS & set(obj), sorted(ACTION_KEYS & set(obj))
        assert obj.get("/S") not in ACTION_TYPES
        assert "/A" not in obj or "/S" not in obj["/A"].get_object(), "no action dictionary under /A"
        assert obj.get("/Subtype") not in ACTIVE_ANNOTATIONS
    raw = b"".join(page.get_contents().get_data() for page in working.pages)
    assert b"canary-script" not in raw


def test_the_working_copy_keeps_the_pages_and_what_they_show(crafted):
    original, working = crafted
    assert len(working.pages) == len(original.pages) == 1
    assert "Visible evidence text" in working.pages[0].extract_text()
    assert [float(v) for v in working.pages[0].mediabox] == [0, 0, 200, 200]
    subtypes = [annot.get_object()["/Subtype"] for annot in working.pages[0].get("/Annots", [])]
    assert "/Text" in subtypes and "/Link" in subtypes, "inert annotations stay (the links lose their actions)"


def test_a_markup_annotation_keeps_its_note_but_not_its_author(crafted):
    _original, working = crafted
    notes = [a.get_object() for a in working.pages[0]["/Annots"] if a.get_object()["/Subtype"] == "/Text"]
    assert notes[0]["/Contents"] == "a reviewer's note" and "/T" not in notes[0]


def test_an_uploaded_pdf_gets_an_inert_working_copy(documenter, incident, django_capture_on_commit_callbacks):
    from evidence.models import MediaItem
    from tests.conftest import client_for
    from tests.evidence.conftest import upload

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(documenter).post(
            "/api/v1/media/",
            {"file": upload(pdf_with_every_action(), "report.pdf", "application/pdf"), "incident": incident.pk},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    item = MediaItem.objects.get()
    assert item.derivative_status == "done", item.derivative_note
    served = client_for(documenter).get(f"/api/v1/media/{item.pk}/redacted/")
    working = PdfReader(io.BytesIO(b"".join(served.streaming_content)))
    assert not any(ACTION_KEYS & set(obj) for obj in every_object(working))
    original = client_for(documenter).get(f"/api/v1/media/{item.pk}/original/")
    assert b"/OpenAction" in b"".join(original.streaming_content), "the sealed original is untouched"
