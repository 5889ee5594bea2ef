"""Streaming an upload to disk while hashing it: never a whole-file read, the size limit enforced
chunk by chunk, nothing left behind when the upload is refused.

The handler replaces Django's default upload handlers for the media upload view only. Each chunk
is hashed (SHA-256) and written to a temporary file inside MEDIA_ROOT (so sealing is an atomic
rename on the same file system); the moment the running size passes the limit the temporary file
is removed and the request is answered 413.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext as _
from rest_framework import exceptions, status

logger = logging.getLogger(__name__)

UPLOAD_FIELD = "file"
# Allowance for the multipart framing and the small text fields that travel with the file.
FORM_OVERHEAD_BYTES = 256 * 1024


class UploadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The file is larger than the upload limit."
    default_code = "too_large"


def incoming_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "evidence" / "incoming"
    path.mkdir(parents=True, exist_ok=True)
    return path


class StorageFull(exceptions.APIException):
    status_code = status.HTTP_507_INSUFFICIENT_STORAGE
    default_detail = "The server has no room to store this file now; nothing was saved. Try again later."
    default_code = "insufficient_storage"


class StreamedUpload(UploadedFile):
    """An upload already on disk, with its SHA-256 and size computed while it streamed in."""

    def __init__(self, *, temp_path: Path, name: str, sha256: str, size: int, content_type: str) -> None:
        super().__init__(file=None, name=name, content_type=content_type, size=size)
        self.temp_path = temp_path
        self.sha256 = sha256

    def open(self, mode: str = "rb"):  # pragma: no cover - callers use temp_path
        return open(self.temp_path, mode)

    def close(self) -> None:
        """Nothing is held open: the handler closed the temporary file when the upload completed."""

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.temp_path)


class HashingUploadHandler(FileUploadHandler):
    """Accepts exactly one file, in the `file` field; streams, hashes and size-checks it."""

    chunk_size = 256 * 1024

    def __init__(self, request: Any = None, limit: int | None = None) -> None:
        super().__init__(request)
        self.limit = settings.MEDIA_MAX_UPLOAD_BYTES if limit is None else limit
        self.temp_path: Path | None = None
        self.completed: StreamedUpload | None = None
        self._fd = None
        self._hasher = None
        self._received = 0

    def _too_large(self) -> UploadTooLarge:
        return UploadTooLarge(
            _("The file is larger than the upload limit of %(limit)s bytes.") % {"limit": f"{self.limit:,}"}
        )

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        # Refuse at once when the declared body cannot fit; otherwise the running count decides.
        if content_length and content_length > self.limit + max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0, 0) + (
            FORM_OVERHEAD_BYTES
        ):
            raise self._too_large()
        return None

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, content_type_extra=None):
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        if field_name != UPLOAD_FIELD or self.temp_path is not None:
            raise exceptions.ValidationError({UPLOAD_FIELD: [_("Send exactly one file, in the field 'file'.")]})
        try:
            fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=incoming_dir())
        except OSError as exc:
            self._storage_failed(exc)
        self.temp_path = Path(name)
        self._fd = os.fdopen(fd, "wb")
        self._hasher = hashlib.sha256()
        self._received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self._received += len(raw_data)
        if self._received > self.limit:
            self.cleanup()
            raise self._too_large()
        self._hasher.update(raw_data)
        try:
            self._fd.write(raw_data)
        except OSError as exc:
            self._storage_failed(exc)
        return None

    def _storage_failed(self, exc: OSError) -> None:
        """Disk full or failing: remove the partial file and answer 507, never a 500."""
        logger.error("upload could not be written: %s", exc.strerror or type(exc).__name__)
        self.cleanup()
        raise StorageFull(
            _("The server has no room to store this file now; nothing was saved. Try again later.")
        ) from exc

    def file_complete(self, file_size: int) -> StreamedUpload:
        try:
            self._fd.flush()
            os.fsync(self._fd.fileno())
            self._fd.close()
        except OSError as exc:
            self._storage_failed(exc)
        self._fd = None
        self.completed = StreamedUpload(
            temp_path=self.temp_path,
            name=self.file_name or "",
            sha256=self._hasher.hexdigest(),
            size=self._received,
            content_type=self.content_type or "",
        )
        return self.completed

    def upload_interrupted(self) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Remove whatever this upload left on disk (called on every refusal and after the response)."""
        if self._fd is not None:
            try:
                self._fd.close()
            finally:
                self._fd = None
        if self.temp_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.temp_path)
