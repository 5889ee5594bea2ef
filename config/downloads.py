"""Download headers, stated once: every file the system sends goes through `attachment()`.

- `Content-Disposition` names the file: a plain `filename="..."` for an ASCII name, the RFC 5987
  `filename*=utf-8''...` form for any other, so an Arabic name arrives intact;
- `X-Content-Type-Options: nosniff` so the browser never guesses another type;
- `Cache-Control: private, no-store` so neither the browser nor a proxy keeps a copy.

Callers pass the headers they need beyond these (the evidence media's sandboxing CSP, for one).
"""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseBase
from django.utils.http import content_disposition_header

DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
}


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """`attachment; filename="name"` for an ASCII name, else the RFC 5987 `filename*=utf-8''percent-encoded`
    (Django's own builder, the one `FileResponse` uses, so every download names its file the same way)."""
    return content_disposition_header(not inline, filename)


def attachment(
    response_or_bytes: HttpResponseBase | bytes | str,
    filename: str,
    content_type: str | None = None,
    *,
    inline: bool = False,
    extra_headers: dict[str, str] | None = None,
) -> HttpResponseBase:
    """The response (or a new one around the bytes) with the download headers set."""
    if isinstance(response_or_bytes, HttpResponseBase):
        response = response_or_bytes
        if content_type:
            response["Content-Type"] = content_type
    else:
        response = HttpResponse(response_or_bytes, content_type=content_type or "application/octet-stream")
    response["Content-Disposition"] = content_disposition(filename, inline=inline)
    for header, value in {**DOWNLOAD_HEADERS, **(extra_headers or {})}.items():
        response[header] = value
    return response
