"""Image processing has a memory bound (MEDIA_MAX_PROCESS_PIXELS), measured as a process's peak RSS.

Each measurement runs the upload check and the worker's processing (metadata, working copy,
thumbnail) of one file in a fresh Python process and reads that process's peak resident set size
from the kernel when it is reaped (`os.wait4`). The bound is stated over a baseline: the same
process handling a tiny image (Django, Pillow and pypdf imported, the code paths warmed).
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from evidence.models import MediaItem, SealedOriginal
from tests.conftest import client_for

MB = 1024 * 1024
# The stated bound: over the baseline, at most 10 bytes per pixel of the budget (two 4-byte buffers
# of the largest decode, plus tiles, encoders and allocator slack).
BYTES_PER_BUDGET_PIXEL = 10

CHILD = r"""
import json, sys
from pathlib import Path
import django
django.setup()
from evidence import media
path, out = Path(sys.argv[1]), Path(sys.argv[2])
out.mkdir(parents=True, exist_ok=True)
try:
    allowed = media.identify(path, path.stat().st_size)
except media.BadFile as refused:
    print(json.dumps({"refused": str(refused)}))
else:
    media.extract_metadata(path, allowed)
    copies = media.build_working_copies(path, allowed, out)
    from PIL import Image
    with Image.open(copies.working) as working:
        print(json.dumps({"working_size": working.size, "notes": copies.notes}))
"""


def png_of(path: Path, width: int, height: int, mode: str = "RGBA") -> Path:
    """A PNG of width×height written row by row (never held whole): all zero, so it compresses to little."""
    channels = {"RGBA": 4, "RGB": 3}[mode]
    colour_type = {"RGBA": 6, "RGB": 2}[mode]

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\x00" * (width * channels)
    with path.open("wb") as stream:
        stream.write(b"\x89PNG\r\n\x1a\n")
        stream.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)))
        for _ in range(height):
            data = compressor.compress(row)
            if data:
                stream.write(chunk(b"IDAT", data))
        stream.write(chunk(b"IDAT", compressor.flush()))
        stream.write(chunk(b"IEND", b""))
    return path


def jpeg_of(path: Path, width: int, height: int) -> Path:
    """A JPEG photograph-sized, rotated by EXIF (orientation 6); made in its own process (~4 bytes/pixel)."""
    script = (
        "import sys; from PIL import Image;"
        "image = Image.new('RGB', (int(sys.argv[2]), int(sys.argv[3])), (90, 120, 60));"
        "exif = Image.Exif(); exif[274] = 6; image.save(sys.argv[1], 'JPEG', quality=80, exif=exif.tobytes())"
    )
    subprocess.run([sys.executable, "-c", script, str(path), str(width), str(height)], check=True, timeout=120)
    return path


def peak_rss(path: Path, out: Path, **env: str) -> tuple[int, dict]:
    """Upload check + processing of `path` in a fresh process: (its peak RSS in bytes, what it reported)."""
    child_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "MEDIA_ROOT": str(out.parent), **env}
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path), str(out)],
        env=child_env,
        cwd=str(django_settings.BASE_DIR),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stdout, stderr = process.stdout.read(), process.stderr.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    assert process.returncode == 0, stderr.decode()[-3000:]
    return usage.ru_maxrss * 1024, json.loads(stdout.decode().strip().splitlines()[-1])


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> int:
    root = tmp_path_factory.mktemp("baseline")
    rss, report = peak_rss(png_of(root / "tiny.png", 16, 16), root / "out")
    assert report["working_size"] == [16, 16]
    return rss


@pytest.fixture
def budget(settings) -> int:
    return getattr(settings, "MEDIA_MAX_PROCESS_PIXELS", 25_000_000)  # the documented default


def test_an_8000_by_8000_png_is_refused_at_upload_from_its_header_with_memory_flat(
    documenter, incident, media_root, tmp_path, baseline, budget
):
    bomb = png_of(tmp_path / "flood.png", 8000, 8000)
    assert bomb.stat().st_size < 400 * 1024, "a few hundred KB on the wire"
    with bomb.open("rb") as stream:
        response = client_for(documenter).post(
            "/api/v1/media/", {"file": stream, "incident": incident.pk}, format="multipart"
        )
    assert response.status_code == 400
    assert "too large to process" in response.json()["file"][0]
    assert not MediaItem.objects.exists() and not SealedOriginal.objects.exists()
    rss, report = peak_rss(bomb, tmp_path / "out")
    assert "too large to process" in report["refused"]
    assert rss - baseline < 30 * MB, f"{(rss - baseline) / MB:.0f} MB over the baseline for a refusal"


def test_a_png_at_the_budget_is_processed_within_the_stated_bound(tmp_path, baseline, budget):
    side = int(budget**0.5)
    rss, report = peak_rss(png_of(tmp_path / "large.png", side, side), tmp_path / "out")
    assert report["working_size"] == [side, side]
    assert rss - baseline <= BYTES_PER_BUDGET_PIXEL * budget, f"{(rss - baseline) / MB:.0f} MB over the baseline"


def test_an_8000_by_8000_jpeg_is_decoded_at_reduced_scale_within_the_bound(tmp_path, baseline, budget):
    rss, report = peak_rss(jpeg_of(tmp_path / "photo.jpg", 8000, 8000), tmp_path / "out")
    # libjpeg decoded it at 1/2 scale (4000×4000 ≤ 25 MP), then the orientation was applied.
    assert report["working_size"] == [4000, 4000]
    assert "sealed original keeps every pixel" in report["notes"][0]
    assert rss - baseline <= BYTES_PER_BUDGET_PIXEL * budget, f"{(rss - baseline) / MB:.0f} MB over the baseline"


def test_a_lower_budget_lowers_the_peak(tmp_path, baseline):
    """The setting is the knob: a worker with less memory sets a smaller budget and peaks lower."""
    photo = jpeg_of(tmp_path / "photo.jpg", 8000, 8000)
    rss, report = peak_rss(photo, tmp_path / "out", MEDIA_MAX_PROCESS_PIXELS="4000000")
    assert report["working_size"] == [2000, 2000], "decoded at 1/4 scale"
    assert rss - baseline <= BYTES_PER_BUDGET_PIXEL * 4_000_000
