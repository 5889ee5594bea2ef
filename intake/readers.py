"""Reading an uploaded list: what it is (by content, never by its name), then its rows, one at a time.

1. `inspect(path)` decides the format from the bytes: a ZIP archive holding `xl/workbook.xml` is an XLSX
   workbook; text without NUL bytes that libmagic does not name as something else (HTML, XML, JSON, PDF …)
   is CSV. Anything else is refused (HTTP 415); an empty file too (400).
2. A CSV file's encoding is decided by a cascade of strict decodes, which is exact for the three encodings
   accepted: a UTF-8 byte-order mark → UTF-8 with BOM; else the whole file decodes as strict UTF-8 →
   UTF-8; else Windows-1256 (which defines all 256 byte values, so it is the only possible remaining
   answer among the three). A statistical detector would only ever guess between them.
3. The delimiter (`,` `;` tab `|`) is what `csv.Sniffer` finds on the first 64 KB, checked against the
   header: if another delimiter splits the header into more known column names, that one is used.
4. A reader yields `(row number, cells)` with spreadsheet numbering (the header is row 1), streaming:
   a CSV line at a time, an XLSX sheet through openpyxl's read-only mode (the rows are parsed from the
   sheet's XML as they are read, never loaded whole).

Readers are the pluggable first stage of the import (reader → row → record): a connector for another
source (ODK, KoboToolbox) is one more class with `header()` and `records()`.
"""

from __future__ import annotations

import codecs
import csv
import queue
import re
import threading
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.utils.translation import gettext_lazy as _

SAMPLE_BYTES = 64 * 1024
DECODE_CHUNK = 1024 * 1024
ZIP_SIGNATURE = b"PK\x03\x04"
UTF8_BOM = codecs.BOM_UTF8
DELIMITERS = (",", ";", "\t", "|")
# Text formats libmagic recognises that are not a list of rows.
NOT_CSV_TYPES = {
    "text/html",
    "text/xml",
    "application/xml",
    "application/json",
    "image/svg+xml",
    "text/rtf",
    "application/rtf",
    "application/postscript",
    "text/x-shellscript",
    "application/x-sh",
}
TEXT_LIKE_TYPES = {"application/csv", "application/octet-stream"}
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class UnsupportedFile(Exception):
    """Not a CSV or XLSX file (HTTP 415)."""


class EmptyFile(Exception):
    """Nothing to import (HTTP 400)."""


class UnreadableFile(Exception):
    """The file is of an accepted kind but cannot be read (HTTP 400, or a failed import)."""


@dataclass(frozen=True)
class FileKind:
    file_format: str  # "csv" | "xlsx"
    encoding: str = ""  # CSV: "utf-8-sig", "utf-8" or "cp1256"
    delimiter: str = ""  # CSV


# --- 1. What the file is ------------------------------------------------------------------------------


def inspect(path: Path) -> FileKind:
    """The file's format, encoding and delimiter, from its content. Raises UnsupportedFile or EmptyFile."""
    with open(path, "rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head.strip(b" \t\r\n" + UTF8_BOM):
        raise EmptyFile(_("The file is empty."))
    if head.startswith(ZIP_SIGNATURE):
        _check_workbook(path)
        return FileKind("xlsx")
    if head.count(b"\x00") > max(8, len(head) // 1000):
        # Binary data, or UTF-16 text; a stray NUL inside a name is the row's error, not the file's.
        raise UnsupportedFile(_("This is not a CSV or XLSX file."))
    import magic

    detected = magic.from_buffer(head, mime=True)
    if detected in NOT_CSV_TYPES or not (detected.startswith("text/") or detected in TEXT_LIKE_TYPES):
        raise UnsupportedFile(
            _("This is not a CSV or XLSX file (it looks like %(type)s).") % {"type": detected or "binary data"}
        )
    encoding = detect_encoding(path)
    sample = _decoded_sample(head, encoding)
    if len(CONTROL.findall(sample)) > max(3, len(sample) // 100):
        raise UnsupportedFile(_("This is not a CSV or XLSX file."))
    return FileKind("csv", encoding=encoding, delimiter=detect_delimiter(sample))


def _check_workbook(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnsupportedFile(_("This is not a CSV or XLSX file (a damaged ZIP archive).")) from None
    names = {member.filename for member in members}
    if "xl/workbook.xml" not in names:
        raise UnsupportedFile(_("This ZIP archive is not an XLSX workbook."))
    # A workbook that expands far beyond its size is refused before anything parses it (a ZIP bomb).
    expanded = sum(member.file_size for member in members)
    if expanded > settings.IMPORT_MAX_XLSX_EXPANDED_BYTES:
        raise UnreadableFile(
            _("The workbook expands to more than %(limit)s bytes; split it into smaller files.")
            % {"limit": f"{settings.IMPORT_MAX_XLSX_EXPANDED_BYTES:,}"}
        )


def detect_encoding(path: Path) -> str:
    """UTF-8 with BOM, UTF-8, or Windows-1256, by strict decoding of the whole file (see the module's docstring)."""
    with open(path, "rb") as handle:
        if handle.read(len(UTF8_BOM)) == UTF8_BOM:
            if not _decodes(handle, "utf-8"):
                raise UnsupportedFile(_("The file starts as UTF-8 but is not valid UTF-8."))
            return "utf-8-sig"
        handle.seek(0)
        return "utf-8" if _decodes(handle, "utf-8") else "cp1256"


def _decodes(handle: Any, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        while chunk := handle.read(DECODE_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _decoded_sample(head: bytes, encoding: str) -> str:
    text = head.decode(encoding, errors="ignore")  # the sample may end inside a character
    if len(head) == SAMPLE_BYTES and "\n" in text:
        text = text[: text.rindex("\n") + 1]  # whole lines only
    return text


def detect_delimiter(sample: str) -> str:
    from .rows import known_column

    def known_in_header(delimiter: str) -> int:
        first = next(csv.reader(sample.splitlines()[:1] or [""], delimiter=delimiter), [])
        return sum(1 for cell in first if known_column(cell))

    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = ""
    scores = {delimiter: known_in_header(delimiter) for delimiter in DELIMITERS}
    best = max(DELIMITERS, key=lambda delimiter: scores[delimiter])
    if sniffed in DELIMITERS and scores[sniffed] >= scores[best]:
        return sniffed
    if scores[best] > 0:
        return best
    # No known column name at all: the delimiter the first line uses most.
    first_line = sample.splitlines()[0] if sample else ""
    return max(DELIMITERS, key=first_line.count) if any(d in first_line for d in DELIMITERS) else ","


# --- 2. The rows ---------------------------------------------------------------------------------------


class Reader(Protocol):
    """A source of rows: the header, then every record as (spreadsheet row number, cells)."""

    def records(self) -> Iterator[tuple[int, list[Any] | None]]: ...

    def count(self) -> int | None: ...

    def close(self) -> None: ...


class BadRecord(Exception):
    """One record could not be split into cells (a malformed CSV line)."""


class CSVReader:
    def __init__(self, path: Path, encoding: str, delimiter: str) -> None:
        self.path, self.encoding, self.delimiter = path, encoding, delimiter

    def _rows(self) -> Iterator[list[str] | BadRecord]:
        with open(self.path, encoding=self.encoding, newline="", errors="strict") as handle:
            rows = csv.reader(handle, delimiter=self.delimiter)
            while True:
                try:
                    yield next(rows)
                except StopIteration:
                    return
                except csv.Error as exc:
                    # The reader goes on with the next line: one bad line is one row error.
                    yield BadRecord(_csv_reason(exc))

    def records(self) -> Iterator[tuple[int, list[Any] | None]]:
        """Row 1 is the header. A malformed line is yielded as (number, None)."""
        for number, cells in enumerate(self._rows(), start=1):
            yield number, (None if isinstance(cells, BadRecord) else cells)

    def count(self) -> int:
        """Records after the header (a fast pass of the csv module over the file)."""
        return max(0, sum(1 for _ in self._rows()) - 1)

    def close(self) -> None:
        """Nothing is held open between reads."""


def _csv_reason(exc: csv.Error) -> str:
    text = str(exc)
    return "field larger than field limit" if "field limit" in text else "malformed line"


class XLSXReader:
    """The first worksheet, streamed by openpyxl's read-only mode (formulas come back as their text).

    The workbook is opened once (its shared strings are read then); each `records()` streams the sheet's
    XML again from the archive.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._workbook: Any = None
        self._sheet: Any = None

    def _open(self) -> Any:
        if self._sheet is not None:
            return self._sheet
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=False, keep_links=False)
        except Exception:
            raise UnreadableFile(_("The workbook could not be read; save it again as XLSX and retry.")) from None
        if not workbook.worksheets:
            workbook.close()
            raise EmptyFile(_("The workbook has no worksheet."))
        self._workbook, self._sheet = workbook, workbook.worksheets[0]
        return self._sheet

    def records(self) -> Iterator[tuple[int, list[Any] | None]]:
        rows = self._open().iter_rows(values_only=True)
        number = 0
        while True:
            try:
                cells = next(rows)
            except StopIteration:
                return
            except Exception:
                raise UnreadableFile(_("The workbook could not be read after row %(row)s.") % {"row": number}) from None
            number += 1
            yield number, list(cells)

    def count(self) -> int | None:
        """Rows after the header, from the sheet's declared dimension (None when it declares none)."""
        try:
            declared = self._open().max_row
        except UnreadableFile:
            raise
        except Exception:
            declared = None
        return None if not declared else max(0, declared - 1)

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()
            self._workbook = self._sheet = None


def open_reader(path: Path, kind: FileKind) -> Reader:
    if kind.file_format == "xlsx":
        return XLSXReader(path)
    return CSVReader(path, kind.encoding, kind.delimiter)


def first_records(reader: Reader, limit: int) -> list[tuple[int, list[Any] | None]]:
    result = []
    for record in reader.records():
        result.append(record)
        if len(result) >= limit:
            break
    return result


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def read_ahead(items: Iterator[Any], depth: int = 1) -> Iterator[Any]:
    """`items`, each prepared by a thread while the caller works on the one before (IMPORT_READ_AHEAD).

    The import's Python (reading and checking rows) then runs while its own thread waits for the database
    to write the previous batch. At most `depth` items wait, so memory stays a few batches; an exception
    raised while preparing is raised here, in the caller; leaving early (an error, the worker stopping)
    stops the thread.
    """
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                ready.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in items:
                if not put(("item", item)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the caller, who raises it
            put(("error", exc))
        finally:
            from django.db import connections

            connections.close_all()  # this thread's own connections, should a check have opened one

    thread = threading.Thread(target=work, name="import-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = ready.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        thread.join(timeout=10)
