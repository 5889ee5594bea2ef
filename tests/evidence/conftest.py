"""Evidence fixtures: witness keys and a private MEDIA_ROOT per test, and generated files (no binaries committed)."""

from __future__ import annotations

import base64
import io
import struct
import wave
import zlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ExifTags, Image, PngImagePlugin

from incidents.models import Status
from tests.conftest import make_incident

KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(bytes(range(32))).decode()
CANARY_NAME = "Canary-Witness-Qx7Zp"
CANARY_CONTACT = "+963-canary-0199"


@pytest.fixture(autouse=True)
def evidence_settings(settings: Any, tmp_path: Path) -> Path:
    settings.WITNESS_KEYS = {"k1": KEY_A}
    settings.WITNESS_KEY_ID = "k1"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.MEDIA_ROOT.mkdir()
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def eager_tasks(request):
    """Tasks run in-process here, also when REDIS_URL is set; the real worker has its own tests."""
    from config.celery import app

    if "celery_worker_process" in request.fixturenames:
        yield
        return
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


@pytest.fixture
def media_root(evidence_settings: Path) -> Path:
    return evidence_settings


@pytest.fixture
def incident(documenter):
    return make_incident(documenter)


@pytest.fixture
def verified_incident(documenter):
    return make_incident(documenter, status=Status.VERIFIED, title="verified incident")


# --- Generated files -------------------------------------------------------------------------------


def _with_exif_thumbnail(exif_bytes: bytes, thumbnail: bytes) -> bytes:
    """Append IFD1 (JPEGInterchangeFormat + length) and an embedded thumbnail to Pillow's EXIF block."""
    assert exif_bytes.startswith(b"Exif\x00\x00")
    tiff = bytearray(exif_bytes[6:])
    endian = "<" if tiff[:2] == b"II" else ">"
    ifd0 = struct.unpack(endian + "I", tiff[4:8])[0]
    count = struct.unpack(endian + "H", tiff[ifd0 : ifd0 + 2])[0]
    next_pos = ifd0 + 2 + 12 * count
    ifd1 = len(tiff)
    thumb_at = ifd1 + 2 + 2 * 12 + 4
    struct.pack_into(endian + "I", tiff, next_pos, ifd1)
    tiff += struct.pack(endian + "H", 2)
    tiff += struct.pack(endian + "HHII", 0x0201, 4, 1, thumb_at)
    tiff += struct.pack(endian + "HHII", 0x0202, 4, 1, len(thumbnail))
    tiff += struct.pack(endian + "I", 0)
    tiff += thumbnail
    return b"Exif\x00\x00" + bytes(tiff)


def jpeg_with_everything() -> bytes:
    """64×48 JPEG, orientation 6 (rotate 90° on display), GPS, make/model, body serial, capture time,
    a COM comment, XMP, and an embedded EXIF thumbnail."""
    thumb = io.BytesIO()
    Image.new("RGB", (16, 12), (250, 0, 0)).save(thumb, "JPEG")
    image = Image.new("RGB", (64, 48), (20, 160, 40))
    for x in range(32):
        for y in range(48):
            image.putpixel((x, y), (200, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "CanaryMaker"
    exif[ExifTags.Base.Model] = "CanaryCam 9"
    exif[ExifTags.Base.Orientation] = 6
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = "SERIAL-424242"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2020:01:15 12:34:56"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (35.0, 55.0, 50.16), 3: "E", 4: (36.0, 38.0, 2.04)})
    out = io.BytesIO()
    image.save(
        out,
        "JPEG",
        quality=95,
        exif=_with_exif_thumbnail(exif.tobytes(), thumb.getvalue()),
        comment=b"canary comment",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/">canary-xmp</x:xmpmeta>',
    )
    return out.getvalue()


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "canary-author")
    info.add_text("Comment", "canary png comment")
    info.add_itxt("Location", "35.93,36.63 canary-place", lang="en")
    out = io.BytesIO()
    Image.new("RGBA", (40, 30), (1, 2, 3, 128)).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def plain_png(size: tuple[int, int] = (8, 8)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (9, 9, 9)).save(out, "PNG")
    return out.getvalue()


def png_header_claiming(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming width×height, then a tiny IDAT and IEND (a pixel-flood bomb)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def tiff_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "TIFF")
    return out.getvalue()


HTML_BYTES = b"<!DOCTYPE html><html><head><script>alert(1)</script></head><body>x</body></html>\n"
SVG_BYTES = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>\n"
)
EPS_BYTES = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto showpage\n"
PSD_BYTES = b"8BPS\x00\x01" + b"\x00" * 6 + b"\x00\x03" + struct.pack(">II", 8, 8) + b"\x00\x08\x00\x03" + b"\x00" * 64


def wav_bytes(seconds: float = 0.1) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(b"\x00\x00" * int(8000 * seconds))
    return out.getvalue()


def pdf_with_metadata() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": "canary-pdf-author", "/Title": "Canary report", "/Creator": "CanaryWriter"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def upload(content: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def media_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())
