"""Files: what type an upload really is, where sealed originals live, metadata, working copies.

The type is decided by content, never by name: libmagic names the format from the first bytes,
then the format's own decoder must accept the file. Only the allow-list below gets in; Pillow is
only ever asked to open the one allowed format libmagic named, with a pixel limit whose warning is
an error, so a decompression bomb costs a header read. Ghostscript (EPS) and the TIFF/PSD/SVG
decoders are never reached.

Memory is bounded by pixels, not bytes (a 265 KB PNG can hold 8000×8000 pixels): no image is ever
decoded with more than MEDIA_MAX_PROCESS_PIXELS pixels (`decode_bounded`). A JPEG above it is
decoded at 1/2, 1/4 or 1/8 scale by libjpeg itself (`Image.draft`: the full-size pixels never exist;
the working copy is that size, the sealed original keeps every pixel); PNG, WebP and HEIC have no
reduced decode, so above the budget they are refused at upload (400). Working copies are then built
with at most two full-size buffers at a time (the decoded image, copied tile by tile into a fresh
one, is closed before orientation is applied; the thumbnail is resampled down directly), so a
worker's peak is about 8 bytes per pixel of the budget over its baseline (tests/evidence/
test_image_memory.py measures it).

Everything here works on paths and streams in chunks: no whole-file reads.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import shutil
import stat
import struct
import subprocess
import threading
import time
import warnings
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import magic
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import ExifTags, Image, UnidentifiedImageError

from .models import MediaKind

logger = logging.getLogger(__name__)

HASH_CHUNK = 1024 * 1024
ORIGINALS_DIR = "evidence/originals"
THUMBNAIL_SIZE = (320, 320)
FFMPEG_TIMEOUT_SECONDS = 600

try:  # HEIC/HEIF through pillow-heif (libheif) when installed; otherwise HEIC is not on the allow-list.
    import pillow_heif  # type: ignore[import-not-found]

    pillow_heif.register_heif_opener()
    HEIF_AVAILABLE = True
except ImportError:  # pragma: no cover - depends on the installation
    HEIF_AVAILABLE = False


@dataclass(frozen=True)
class AllowedType:
    kind: str
    content_type: str  # what we serve it as
    extension: str
    pillow_format: str | None = None


# libmagic's answer → what we accept it as.
ALLOWED: dict[str, AllowedType] = {
    "image/jpeg": AllowedType(MediaKind.IMAGE, "image/jpeg", "jpg", "JPEG"),
    "image/png": AllowedType(MediaKind.IMAGE, "image/png", "png", "PNG"),
    "image/webp": AllowedType(MediaKind.IMAGE, "image/webp", "webp", "WEBP"),
    "video/mp4": AllowedType(MediaKind.VIDEO, "video/mp4", "mp4"),
    "video/quicktime": AllowedType(MediaKind.VIDEO, "video/quicktime", "mov"),
    "video/webm": AllowedType(MediaKind.VIDEO, "video/webm", "webm"),
    "application/pdf": AllowedType(MediaKind.DOCUMENT, "application/pdf", "pdf"),
    "audio/mpeg": AllowedType(MediaKind.AUDIO, "audio/mpeg", "mp3"),
    "audio/x-m4a": AllowedType(MediaKind.AUDIO, "audio/mp4", "m4a"),
    "audio/mp4": AllowedType(MediaKind.AUDIO, "audio/mp4", "m4a"),
    "audio/ogg": AllowedType(MediaKind.AUDIO, "audio/ogg", "ogg"),
    "audio/x-wav": AllowedType(MediaKind.AUDIO, "audio/wav", "wav"),
    "audio/wav": AllowedType(MediaKind.AUDIO, "audio/wav", "wav"),
    "audio/vnd.wave": AllowedType(MediaKind.AUDIO, "audio/wav", "wav"),
}
if HEIF_AVAILABLE:  # pragma: no cover - depends on the installation
    ALLOWED["image/heic"] = AllowedType(MediaKind.IMAGE, "image/heic", "heic", "HEIF")
    ALLOWED["image/heif"] = AllowedType(MediaKind.IMAGE, "image/heif", "heif", "HEIF")


ACCEPTED_NAMES = ", ".join(
    dict.fromkeys(allowed.extension.upper() if allowed.extension != "jpg" else "JPEG" for allowed in ALLOWED.values())
)


class UnsupportedType(Exception):
    """Not on the allow-list (HTTP 415)."""


class BadFile(Exception):
    """On the allow-list by its first bytes, but its decoder refuses it: empty, truncated, corrupt, a bomb (400)."""


# --- Deciding the type ---------------------------------------------------------------------------


@contextlib.contextmanager
def guarded_pillow():
    """Pillow with a low pixel limit and its DecompressionBombWarning raised as an error.

    The limit is Pillow's process-wide setting, set (not restored) on every use so it always follows
    MEDIA_MAX_IMAGE_PIXELS; `open_image` also checks the size itself, because the warnings filter is
    process-wide state that another thread may change.
    """
    Image.MAX_IMAGE_PIXELS = settings.MEDIA_MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def open_image(path: Path, pillow_format: str) -> Image.Image:
    """Open with exactly one allowed decoder (callers hold `guarded_pillow()`); headers only, no pixels yet."""
    image = Image.open(path, formats=[pillow_format])
    if image.width * image.height > settings.MEDIA_MAX_IMAGE_PIXELS:
        image.close()
        raise Image.DecompressionBombError(f"{image.width}x{image.height} is over the pixel limit")
    return image


def identify(path: Path, size: int) -> AllowedType:
    """The allowed type of the file at `path`, decided by content. Raises UnsupportedType or BadFile."""
    if size == 0:
        raise BadFile(_("The file is empty."))
    detected = magic.from_file(str(path), mime=True)
    allowed = ALLOWED.get(detected)
    if allowed is None:
        raise UnsupportedType(
            _("Files of type %(type)s are not accepted. Accepted: %(accepted)s.")
            % {"type": detected, "accepted": ACCEPTED_NAMES}
        )
    if allowed.pillow_format:
        _check_image(path, allowed)
    elif allowed.kind == MediaKind.DOCUMENT:
        _check_pdf(path)
    elif allowed.content_type == "audio/wav":
        _check_wav(path)
    else:
        _check_with_ffprobe(path)
    return allowed


class TooLargeToProcess(BadFile):
    """More pixels than the workers may decode at full size, in a format without a reduced decode (400)."""


# Formats whose decoder can produce a reduced image without the full-size pixels (libjpeg's scaling).
REDUCIBLE_FORMATS = {"JPEG"}
JPEG_SCALES = (1, 2, 4, 8)


def decode_bounded(path: Path, pillow_format: str) -> Image.Image:
    """The image decoded (loaded) with at most MEDIA_MAX_PROCESS_PIXELS pixels; callers hold
    `guarded_pillow()` and close it. A JPEG over the budget is decoded at the smallest scale (1/2, 1/4,
    1/8) that fits; anything else over the budget raises TooLargeToProcess before any pixel is decoded."""
    budget = settings.MEDIA_MAX_PROCESS_PIXELS
    image = open_image(path, pillow_format)
    try:
        width, height = image.size
        if width * height > budget:
            scale = next(
                (s for s in JPEG_SCALES if math.ceil(width / s) * math.ceil(height / s) <= budget),
                None,
            )
            if image.format not in REDUCIBLE_FORMATS or scale is None:
                raise TooLargeToProcess(
                    _(
                        "The image is too large to process: %(pixels)s pixels (%(width)s×%(height)s); "
                        "at most %(limit)s pixels for PNG, WebP and HEIC. Larger photographs are accepted as JPEG."
                    )
                    % {"pixels": f"{width * height:,}", "width": width, "height": height, "limit": f"{budget:,}"}
                )
            image.draft(image.mode, (math.ceil(width / scale), math.ceil(height / scale)))
            if image.width * image.height > budget:  # the decoder could not scale: never decode it whole
                raise TooLargeToProcess(_("The image is too large to process."))
        image.load()
    except BaseException:
        image.close()
        raise
    return image


def _check_image(path: Path, allowed: AllowedType) -> None:
    try:
        with guarded_pillow(), open_image(path, allowed.pillow_format) as image:
            if image.format != allowed.pillow_format:
                raise UnsupportedType(_("The file's content does not match an accepted image format."))
            image.verify()  # structure and checksums (PNG CRCs) without decoding pixels
        with guarded_pillow(), decode_bounded(path, allowed.pillow_format):
            pass  # a decode (at a bounded size): truncated or corrupt pixel data fails here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadFile(
            _("The image has more pixels than allowed (%(limit)s).") % {"limit": f"{settings.MEDIA_MAX_IMAGE_PIXELS:,}"}
        ) from None
    except (UnsupportedType, TooLargeToProcess):
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, IndexError, struct.error) as exc:
        raise BadFile(_("The image is truncated or corrupt and cannot be read.")) from exc


def _check_pdf(path: Path) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(path, strict=False)
        if len(reader.pages) < 1:
            raise BadFile(_("The PDF has no pages."))
    except BadFile:
        raise
    except (PyPdfError, OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise BadFile(_("The PDF is damaged and cannot be read.")) from exc


def _check_wav(path: Path) -> None:
    try:
        with wave.open(str(path), "rb") as audio:
            if audio.getnframes() <= 0 or audio.getframerate() <= 0:
                raise BadFile(_("The recording holds no audio."))
    except BadFile:
        raise
    except (wave.Error, EOFError, OSError, ValueError) as exc:
        raise BadFile(_("The recording is damaged and cannot be read.")) from exc


def ffmpeg_available() -> bool:
    return bool(shutil.which("ffmpeg") and shutil.which("ffprobe"))


def _ffprobe(path: Path) -> dict[str, Any]:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", "--", str(path)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise BadFile(_("The media file is damaged and cannot be read."))
    try:
        return json.loads(result.stdout or b"{}")
    except ValueError as exc:
        raise BadFile(_("The media file is damaged and cannot be read.")) from exc


def _check_with_ffprobe(path: Path) -> None:
    """Video and compressed audio: ffprobe (Debian's ffmpeg) when installed, else mutagen's parser."""
    if ffmpeg_available():
        probe = _ffprobe(path)
        if not probe.get("streams"):
            raise BadFile(_("The media file holds no audio or video stream."))
        return
    if magic.from_file(str(path), mime=True) == "video/webm":
        return  # the EBML signature libmagic matched is all we can check without a decoder
    try:
        import mutagen

        if mutagen.File(path) is None:
            raise BadFile(_("The media file is damaged and cannot be read."))
    except BadFile:
        raise
    except Exception as exc:  # mutagen raises its own MutagenError family and assorted parse errors
        raise BadFile(_("The media file is damaged and cannot be read.")) from exc


# --- Where files live ----------------------------------------------------------------------------


def media_root() -> Path:
    return Path(settings.MEDIA_ROOT)


def original_relpath(sha256: str) -> str:
    """Content-addressed and generated: nothing the uploader sent takes part in the path."""
    return f"{ORIGINALS_DIR}/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def working_dir_relpath(item_id: int) -> str:
    return f"evidence/working/{item_id}"


def absolute(relpath: str) -> Path:
    path = (media_root() / relpath).resolve()
    if media_root().resolve() not in path.parents:
        raise ValueError("path escapes MEDIA_ROOT")
    return path


# --- Sealed files and the transactions that record them ----------------------------------------------
#
# A sealed file is put in place inside the transaction that creates its SealedOriginal row, so a
# committed row always has its file. If that transaction rolls back (a later failure in the request,
# or in a caller's own transaction), the file must go too. Django has no rollback hook, so:
# 1. `seal` remembers, per thread, each file it put in place;
# 2. once the transaction is over, `discard_unrecorded_originals` removes each remembered file that
#    no row records. It runs when `upload_media` opened the transaction itself, at the end of every
#    request (`request_finished`) and every Celery task (`task_postrun`);
# 3. `remove_unrecorded_originals`, a Celery beat task, removes any unrecorded file older than
#    MEDIA_UNRECORDED_GRACE_SECONDS (a process killed between sealing and committing).
# Uploads of the same bytes and these removals take turns on `lock_original(sha256)`, so a file is
# never removed while another transaction that will record it is still open.

_uncommitted = threading.local()
ORIGINAL_LOCK_NAMESPACE = 727_274_002  # PostgreSQL advisory locks: (namespace, part of the hash)


def lock_original(sha256: str) -> None:
    """Take turns with other transactions sealing or removing these bytes, until this transaction ends.

    PostgreSQL: an advisory transaction lock. SQLite already serialises writing transactions.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ORIGINAL_LOCK_NAMESPACE, int(sha256[:7], 16)])


def _remember_uncommitted(sha256: str) -> None:
    pending = getattr(_uncommitted, "sha256s", None)
    if pending is None:
        pending = _uncommitted.sha256s = set()
    pending.add(sha256)


def _remove_if_unrecorded(sha256: str) -> bool:
    """Remove the sealed file of these bytes unless a SealedOriginal row records it. True if removed."""
    from django.db import transaction

    from .models import SealedOriginal

    with transaction.atomic():
        lock_original(sha256)
        if SealedOriginal.objects.filter(sha256=sha256).exists():
            return False
        path = absolute(original_relpath(sha256))
        if not path.exists():
            return False
        path.unlink()
        logger.info("removed a sealed file that no committed row records", extra={"sha256": sha256})
        return True


def discard_unrecorded_originals(**_signal_kwargs: Any) -> int:
    """Remove the files this thread sealed whose rows were rolled back. Returns how many went.

    Also a receiver of `request_finished` and Celery's `task_postrun`: cheap when nothing was sealed.
    """
    from django.db import DatabaseError

    pending = getattr(_uncommitted, "sha256s", None)
    if not pending:
        return 0
    removed = 0
    for sha256 in sorted(pending):
        try:
            removed += _remove_if_unrecorded(sha256)
        except DatabaseError as exc:  # the database is gone: the scheduled sweep removes it later
            logger.warning("could not check a sealed file against the database (%s)", type(exc).__name__)
    pending.clear()
    return removed


def remove_unrecorded_originals(grace_seconds: float | None = None) -> int:
    """Remove sealed files no row records and older than the grace time (the scheduled sweep)."""
    grace = settings.MEDIA_UNRECORDED_GRACE_SECONDS if grace_seconds is None else grace_seconds
    root = absolute(ORIGINALS_DIR) if (media_root() / ORIGINALS_DIR).exists() else None
    if root is None:
        return 0
    cutoff = time.time() - grace
    removed = 0
    for path in root.glob("*/*/*"):
        name = path.name
        if not (len(name) == 64 and all(c in "0123456789abcdef" for c in name)):
            continue
        try:
            if path.stat().st_mtime > cutoff:
                continue
        except FileNotFoundError:
            continue
        removed += _remove_if_unrecorded(name)
    return removed


def seal(temp_path: Path, sha256: str) -> str:
    """Move a streamed upload to its content-addressed place, read-only. Returns the relative path.

    If a file is already there (a concurrent upload of the same bytes), the upload is discarded:
    the sealed original is never overwritten. Call inside the transaction that records the
    SealedOriginal, holding `lock_original(sha256)`.
    """
    relpath = original_relpath(sha256)
    target = absolute(relpath)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        # No row records it (the caller checked, holding the lock): left by a rolled-back transaction
        # or a killed process. Reused only if whole; a partial copy is replaced.
        if sha256_of(target) == sha256:
            os.unlink(temp_path)
            _remember_uncommitted(sha256)
            return relpath
        target.unlink()
    os.chmod(temp_path, stat.S_IRUSR | stat.S_IRGRP)
    try:
        os.link(temp_path, target)  # link, unlike rename, never replaces an existing file
    except FileExistsError:
        pass  # another upload of the same bytes won the race
    except OSError:  # a file system without hard links: an exclusive create, then a streamed copy
        _copy_exclusive(temp_path, target)
    _remember_uncommitted(sha256)
    os.unlink(temp_path)
    return relpath


def _copy_exclusive(source: Path, target: Path) -> None:
    try:
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o440)
    except FileExistsError:
        return
    try:
        with open(source, "rb") as reader, os.fdopen(descriptor, "wb") as writer:
            shutil.copyfileobj(reader, writer, HASH_CHUNK)
            writer.flush()
            os.fsync(writer.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- Escaping the uploader's file name -------------------------------------------------------------

_UNSAFE_NAME_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def escape_name(name: str, limit: int = 255) -> str:
    """The uploader's file name as inert metadata: controls, bidi controls and NUL shown as escapes."""
    escaped = _UNSAFE_NAME_CHARS.sub(lambda match: f"\\u{ord(match.group()):04x}", name or "")
    return escaped[:limit]


def download_name(escaped_name: str, sha256: str, extension: str) -> str:
    """A file name safe for Content-Disposition: no path parts, no escapes, the real extension."""
    base = re.sub(r"\\u[0-9a-f]{4}", "", escaped_name).replace("/", "_").replace("\\", "_")
    base = re.sub(r"\.{2,}", ".", base)
    stem = base.rsplit(".", 1)[0].strip(" .") if "." in base else base.strip(" .")
    stem = re.sub(r"\s+", " ", stem)[:100] or f"evidence-{sha256[:12]}"
    return f"{stem}.{extension}"


# --- Metadata ---------------------------------------------------------------------------------------


_CONTROL_CHARS = re.compile("[\x00-\x08\x0b-\x1f\x7f]")
METADATA_TEXT_LIMIT = 2000


def _clean_text(text: str) -> str:
    """Metadata text is attacker-controlled: no NUL (PostgreSQL refuses it in JSON), no terminal
    escapes or other controls, bounded length."""
    return _CONTROL_CHARS.sub("", text)[:METADATA_TEXT_LIMIT]


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace").rstrip("\x00")
        return _clean_text(text) if text.isprintable() else value[:64].hex()
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, bool | int) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value[:100]]
    if isinstance(value, dict):
        return {_clean_text(str(k)): _jsonable(v) for k, v in list(value.items())[:200]}
    try:
        number = float(value)  # IFDRational (0/0 is NaN: not JSON)
    except (TypeError, ValueError, ZeroDivisionError):
        return _clean_text(str(value))
    return number if math.isfinite(number) else None


def _gps_decimal(gps: dict[int, Any]) -> dict[str, float] | None:
    def degrees(values: Any, ref: Any) -> float | None:
        try:
            d, m, s = (float(v) for v in values)
        except (TypeError, ValueError, ZeroDivisionError):
            return None
        decimal = d + m / 60 + s / 3600
        return -decimal if str(ref).upper() in ("S", "W") else decimal

    lat = degrees(gps.get(2), gps.get(1))
    lon = degrees(gps.get(4), gps.get(3))
    if lat is None or lon is None:
        return None
    return {"latitude": round(lat, 7), "longitude": round(lon, 7)}


def image_metadata(path: Path, allowed: AllowedType) -> dict[str, Any]:
    with guarded_pillow(), open_image(path, allowed.pillow_format) as image:
        found: dict[str, Any] = {"format": image.format, "width": image.width, "height": image.height}
        exif = image.getexif()
        tags = {ExifTags.TAGS.get(tag, f"tag_{tag}"): _jsonable(value) for tag, value in exif.items()}
        exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
        tags.update({ExifTags.TAGS.get(tag, f"tag_{tag}"): _jsonable(value) for tag, value in exif_ifd.items()})
        tags.pop("MakerNote", None)
        gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        if tags:
            found["exif"] = {k: v for k, v in tags.items() if k not in ("ExifOffset", "GPSInfo")}
        if gps_ifd:
            found["gps"] = _gps_decimal(gps_ifd) or {
                ExifTags.GPSTAGS.get(k, str(k)): _jsonable(v) for k, v in gps_ifd.items()
            }
        captured = tags.get("DateTimeOriginal") or tags.get("DateTime")
        if captured:
            found["captured_at"] = captured
        device = " ".join(str(tags[k]).strip() for k in ("Make", "Model") if tags.get(k))
        if device:
            found["device"] = device
        if tags.get("BodySerialNumber"):
            found["device_serial"] = tags["BodySerialNumber"]
        text = {k: _jsonable(v) for k, v in (getattr(image, "text", None) or {}).items()}
        if text:
            found["text"] = text
        if "comment" in image.info:
            found["comment"] = _jsonable(image.info["comment"])
        for key in ("xmp", "XML:com.adobe.xmp"):
            if image.info.get(key):
                found["has_xmp"] = True
        if image.info.get("icc_profile"):
            found["has_icc_profile"] = True
    return found


def pdf_metadata(path: Path) -> dict[str, Any]:
    from pypdf import PdfReader

    reader = PdfReader(path, strict=False)
    info = reader.metadata or {}
    found: dict[str, Any] = {"pages": len(reader.pages)}
    document = {str(k).lstrip("/"): _jsonable(str(v)) for k, v in info.items()}
    if document:
        found["document"] = document
    if reader.xmp_metadata is not None:
        found["has_xmp"] = True
    return found


def av_metadata(path: Path, allowed: AllowedType) -> dict[str, Any]:
    if ffmpeg_available():
        probe = _ffprobe(path)
        fmt = probe.get("format", {})
        # Containers keep tags at file level (MP4, MP3) or per stream (Ogg); the file's win.
        tags: dict[str, Any] = {}
        for stream in probe.get("streams", []):
            tags.update(stream.get("tags", {}))
        tags.update(fmt.get("tags", {}))
        found: dict[str, Any] = {
            "container": fmt.get("format_name"),
            "duration_seconds": _jsonable(fmt.get("duration")),
            "tags": tags,
            "streams": [
                {
                    k: s.get(k)
                    for k in ("codec_type", "codec_name", "width", "height", "sample_rate", "channels")
                    if s.get(k) is not None
                }
                for s in probe.get("streams", [])
            ],
        }
        tags = {str(k).lower(): v for k, v in found["tags"].items()}
        if tags.get("creation_time"):
            found["captured_at"] = tags["creation_time"]
        location = tags.get("location") or tags.get("com.apple.quicktime.location.iso6709")
        if location:
            found["gps_iso6709"] = location
        device = " ".join(
            str(tags[k]) for k in ("com.apple.quicktime.make", "com.apple.quicktime.model") if tags.get(k)
        )
        if device:
            found["device"] = device
        return found
    if allowed.content_type == "audio/wav":
        with wave.open(str(path), "rb") as audio:
            return {"channels": audio.getnchannels(), "sample_rate": audio.getframerate(), "frames": audio.getnframes()}
    return {}


def extract_metadata(path: Path, allowed: AllowedType) -> dict[str, Any]:
    if allowed.pillow_format:
        found = image_metadata(path, allowed)
    elif allowed.kind == MediaKind.DOCUMENT:
        found = pdf_metadata(path)
    else:
        found = av_metadata(path, allowed)
    return _jsonable(found)


# --- Working copies -----------------------------------------------------------------------------------


@dataclass
class WorkingCopies:
    working: Path | None = None
    working_content_type: str = ""
    thumbnail: Path | None = None
    unavailable: str = ""  # why no working copy could be made (not a failure)
    notes: list[str] = field(default_factory=list)


# Orientation (EXIF tag 274) → the transposition that shows the image upright (as ImageOps.exif_transpose).
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
TILE_PIXELS = 2_000_000  # pixels copied per step while rebuilding (a few MB whatever the image's size)


def _rebuilt_from_pixels(image: Image.Image) -> tuple[Image.Image, Image.Transpose | None]:
    """A new image holding the pixels only (no EXIF, XMP, ICC, comments, text), and the transposition
    its orientation needs (`_upright` applies it).

    Copied tile by tile into a fresh image, so besides `image` only one full-size buffer exists; the
    caller closes `image` before the transposition makes the second.
    """
    orientation = image.getexif().get(ExifTags.Base.Orientation)
    mode = "RGBA" if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info else "RGB"
    clean = Image.new(mode, image.size)  # a fresh image: empty info, no EXIF/XMP/ICC/text
    rows = max(1, TILE_PIXELS // max(1, image.width))
    for top in range(0, image.height, rows):
        box = (0, top, image.width, min(image.height, top + rows))
        with image.crop(box) as tile, tile.convert(mode) as converted:
            clean.paste(converted, (0, top))
    return clean, ORIENTATION_TRANSPOSE.get(orientation)


def _upright(clean: Image.Image, method: Image.Transpose | None) -> Image.Image:
    if method is None:
        return clean
    upright = clean.transpose(method)
    clean.close()
    return upright


def _thumbnail(image: Image.Image) -> Image.Image:
    """The RGB thumbnail, made strip by strip: each strip is converted and box-reduced on its own, so no
    full-size copy is made (Pillow's own resize of RGBA premultiplies a full-size copy first)."""
    width, height = image.size
    factor = max(1, int(min(width / THUMBNAIL_SIZE[0], height / THUMBNAIL_SIZE[1]) // 2))
    reduced = Image.new("RGB", (math.ceil(width / factor), math.ceil(height / factor)))
    rows = max(factor, (TILE_PIXELS // max(1, width)) // factor * factor)
    for top in range(0, height, rows):
        box = (0, top, width, min(height, top + rows))
        with image.crop(box) as strip, strip.convert("RGB") as rgb, rgb.reduce(factor) as part:
            reduced.paste(part, (0, top // factor))
    scale = min(THUMBNAIL_SIZE[0] / width, THUMBNAIL_SIZE[1] / height, 1.0)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    thumbnail = reduced.resize(size, Image.Resampling.LANCZOS)
    reduced.close()
    return thumbnail


def image_working_copies(path: Path, allowed: AllowedType, out_dir: Path) -> WorkingCopies:
    notes = []
    with guarded_pillow():
        with decode_bounded(path, allowed.pillow_format) as image:
            with Image.open(path, formats=[allowed.pillow_format]) as header:
                full_size = header.size
            if image.size != full_size:
                notes.append(
                    f"working copy decoded at {image.width}x{image.height} from {full_size[0]}x{full_size[1]} "
                    "(MEDIA_MAX_PROCESS_PIXELS); the sealed original keeps every pixel"
                )
            clean, orientation = _rebuilt_from_pixels(image)
        clean = _upright(clean, orientation)  # the decoded image is closed: at most two full-size buffers
    # Photographs stay JPEG; lossless sources (PNG, WebP) and anything with transparency stay lossless.
    if clean.mode == "RGBA" or allowed.pillow_format in ("PNG", "WEBP"):
        working, content_type = out_dir / "working.png", "image/png"
        clean.save(working, format="PNG", optimize=False)
    else:
        working, content_type = out_dir / "working.jpg", "image/jpeg"
        clean.save(working, format="JPEG", quality=92)
    thumb = _thumbnail(clean)
    clean.close()
    thumbnail = out_dir / "thumbnail.jpg"
    thumb.save(thumbnail, format="JPEG", quality=85)
    return WorkingCopies(working=working, working_content_type=content_type, thumbnail=thumbnail, notes=notes)


# What a PDF working copy never carries (PDF 2.0, ISO 32000-2, §12.6 actions, §12.5 annotations):
# - every action, wherever it hangs: `/OpenAction`, `/AA` (additional actions of the document, pages,
#   annotations and form fields) and `/A` (an annotation's or outline item's action, with its `/Next`
#   chain). That includes scripts (`/JavaScript`), programs (`/Launch`), form posts (`/SubmitForm`,
#   `/ImportData`), other files (`/GoToR`, `/GoToE`), media (`/Rendition`) and web addresses (`/URI`):
#   a link that opens a tracker's URL tells an adversary who viewed the evidence, and when. Links stay
#   visible as page content; internal `/Dest` destinations stay.
# - scripts and files by name: `/JS`, `/JavaScript` and `/EmbeddedFiles` name trees, `/EmbeddedFile`
#   streams, `/XFA` forms;
# - annotations that exist to play or embed something: file attachments, sound, movie, screen, rich
#   media and 3D;
# - the author and dates of markup annotations (`/T`, `/M`, `/CreationDate`: a note's author is a name).
# The document catalog is never copied (pages go into a new document), so `/Names`, `/AcroForm`,
# `/OpenAction` and the outline stay behind; the walk below cleans everything the pages bring along.
PDF_ACTION_KEYS = {"/AA", "/OpenAction", "/JS", "/JavaScript", "/EmbeddedFiles", "/XFA", "/URI", "/Names"}
PDF_ACTIVE_ANNOTATIONS = {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
PDF_MARKUP_PERSONAL_KEYS = {"/T", "/M", "/CreationDate"}


def _pdf_inert(value: Any, seen: set[int]) -> None:
    """Remove every action and script from `value` and everything reachable from it (in place)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

    pending = [value]
    while pending:
        current = pending.pop()
        if isinstance(current, IndirectObject):
            if current.idnum in seen:
                continue
            seen.add(current.idnum)
            current = current.get_object()
        if isinstance(current, DictionaryObject):
            if isinstance(current, StreamObject) and current.get("/Type") == "/EmbeddedFile":
                current.set_data(b"")
            for key in list(current):
                inner = current[key].get_object() if hasattr(current[key], "get_object") else current[key]
                is_action = key == "/A" and isinstance(inner, DictionaryObject) and "/S" in inner
                if key in PDF_ACTION_KEYS or is_action or key in ("/EF", "/RichMediaContent"):
                    del current[NameObject(key)]
            annotation = current.get("/Type") == "/Annot" or ("/Subtype" in current and "/Rect" in current)
            if annotation and current.get("/Subtype") != "/Widget":  # a widget's /T is its field's name
                for key in PDF_MARKUP_PERSONAL_KEYS & set(current):
                    del current[NameObject(key)]
            if "/Annots" in current:
                annotations = current["/Annots"].get_object()
                kept = ArrayObject(
                    a for a in annotations if a.get_object().get("/Subtype") not in PDF_ACTIVE_ANNOTATIONS
                )
                current[NameObject("/Annots")] = kept
            pending.extend(current.values())
        elif isinstance(current, ArrayObject):
            pending.extend(current)


def pdf_working_copy(path: Path, out_dir: Path) -> WorkingCopies:
    """Pages copied into a new document, inert: no document information, XMP, action or script."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    reader = PdfReader(path, strict=False)
    writer = PdfWriter()
    seen: set[int] = set()
    for page in reader.pages:
        added = writer.add_page(page)
        for key in ("/Metadata", "/PieceInfo"):
            if NameObject(key) in added:
                del added[NameObject(key)]
        _pdf_inert(added, seen)
    writer.add_metadata({"/Producer": "", "/Creator": ""})
    working = out_dir / "working.pdf"
    with open(working, "wb") as stream:
        writer.write(stream)
    return WorkingCopies(
        working=working,
        working_content_type="application/pdf",
        notes=[
            "document information, XMP metadata, actions, scripts and embedded files removed; page content unchanged"
        ],
    )


FFMPEG_FORMATS = {"mp4": "mp4", "mov": "mov", "webm": "webm", "mp3": "mp3", "m4a": "ipod", "ogg": "ogg", "wav": "wav"}


def av_working_copy(path: Path, allowed: AllowedType, out_dir: Path) -> WorkingCopies:
    if not ffmpeg_available():
        return WorkingCopies(unavailable=_("No metadata-stripped copy: ffmpeg is not installed on this server."))
    working = out_dir / f"working.{allowed.extension}"
    command = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-i",
        str(path),
        # Audio and video only: data, subtitle and attachment streams (GPS telemetry from drones and
        # action cameras, cover art) are left out with the metadata.
        "-map",
        "0:v?",
        "-map",
        "0:a?",
        "-dn",
        "-sn",
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
        "-c",
        "copy",
        "-bitexact",
    ]
    if allowed.extension in ("mp4", "mov", "m4a"):
        command += ["-movflags", "+faststart"]
    command += ["-f", FFMPEG_FORMATS[allowed.extension], str(working)]
    result = subprocess.run(command, capture_output=True, timeout=FFMPEG_TIMEOUT_SECONDS, check=False)
    if result.returncode != 0:
        with contextlib.suppress(FileNotFoundError):
            working.unlink()
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["ffmpeg failed"]
        raise RuntimeError(f"ffmpeg could not copy the streams: {message[0][:300]}")
    copies = WorkingCopies(
        working=working,
        working_content_type=allowed.content_type,
        notes=["container metadata, data and subtitle streams removed"],
    )
    if allowed.kind == MediaKind.VIDEO:
        copies.thumbnail = _video_thumbnail(working, out_dir)
        if copies.thumbnail is None:
            copies.notes.append("no thumbnail: no frame could be decoded")
    return copies


def _video_thumbnail(video: Path, out_dir: Path) -> Path | None:
    """The first frame, decoded by ffmpeg, then rebuilt from pixels by Pillow like any image."""
    frame = out_dir / "frame.png"
    result = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-y",
            "-i",
            str(video),
            "-frames:v",
            "1",
            "-map_metadata",
            "-1",
            "-bitexact",
            "-f",
            "image2",
            "-c:v",
            "png",
            str(frame),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0 or not frame.exists():
        return None
    try:
        with guarded_pillow(), decode_bounded(frame, "PNG") as image:
            clean, orientation = _rebuilt_from_pixels(image)
        clean = _upright(clean, orientation)
        thumb = _thumbnail(clean)
        clean.close()
        thumbnail = out_dir / "thumbnail.jpg"
        thumb.save(thumbnail, format="JPEG", quality=85)
        return thumbnail
    except (OSError, ValueError, BadFile, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    finally:
        frame.unlink(missing_ok=True)


def build_working_copies(path: Path, allowed: AllowedType, out_dir: Path) -> WorkingCopies:
    out_dir.mkdir(parents=True, exist_ok=True)
    if allowed.pillow_format:
        return image_working_copies(path, allowed, out_dir)
    if allowed.kind == MediaKind.DOCUMENT:
        return pdf_working_copy(path, out_dir)
    return av_working_copy(path, allowed, out_dir)


def allowed_for(content_type: str) -> AllowedType:
    for allowed in ALLOWED.values():
        if allowed.content_type == content_type:
            return allowed
    raise UnsupportedType(content_type)
