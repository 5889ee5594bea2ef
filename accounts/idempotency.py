"""`Idempotency-Key` for API create requests: the same request sent twice creates one record.

A client (a field app on a flaky link, a script that retries, a double click) sends a unique key
with a POST. The first request runs and its answer is stored with the key, in the same transaction
as the record it created; a repeat with the same key and the same body gets that answer again
(`Idempotent-Replayed: true`), and nothing new is created. The same key with a different body is
a 422. Two copies arriving at once: the second waits for the first's transaction (the unique key),
then replays its answer. A request that failed stored nothing (its transaction rolled back), so a
retry runs again.

Protected fields (witness identity) are never stored here. When the answer carried any
(`config.protected.shown`), the stored copy leaves them out and names them; a replay asks the view
to re-derive them (`rederive`: the witness view serialises the witness again). Chosen over keeping
an encrypted copy of the answer because re-deriving
- adds no second ciphertext of the identity, so there is nothing more to rotate, purge or leak;
- checks the permission again at replay time (a user who lost it gets the answer without the
  identity) and audits the showing like any other;
- needs no key in this app: the witness keys stay with the witness service.
A replay therefore shows the identity as it is now, not as it was in the first answer.

Records older than `IDEMPOTENCY_KEEP_HOURS` are never replayed (the key runs anew) and are purged
by the Celery beat task `accounts.idempotency.purge_expired` (settings.CELERY_BEAT_SCHEDULE).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from config import protected

from .models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
# The stored answer of a response that carried protected fields: {REMOVED: [names], BODY: {...}}.
REMOVED, BODY = "protected_fields_removed", "body"


def keep_for() -> timedelta:
    return timedelta(hours=settings.IDEMPOTENCY_KEEP_HOURS)


def _expired_before() -> Any:
    return timezone.now() - keep_for()


def purge_expired_records() -> int:
    """Delete replay records past their retention; returns how many went."""
    deleted, _by_model = IdempotentRequest.objects.filter(created_at__lt=_expired_before()).delete()
    return deleted


@shared_task(name="accounts.idempotency.purge_expired")
def purge_expired() -> int:
    """Run by Celery beat (settings.CELERY_BEAT_SCHEDULE), so expiry never waits for the next request."""
    return purge_expired_records()


def storable(request: Any, body: Any) -> Any:
    """The answer as it may be stored: without the protected fields the response carried."""
    removed = protected.shown(request)
    if not removed:
        return body
    # Not a mapping we can take fields out of: keep nothing of it.
    kept = {key: value for key, value in body.items() if key not in removed} if isinstance(body, dict) else None
    return {REMOVED: sorted(removed), BODY: kept}


def replayable(stored: Any, rederive: Callable[[dict, list[str]], dict] | None) -> Any:
    """The stored answer as a replay shows it: protected fields re-derived by the view when it can."""
    if not (isinstance(stored, dict) and REMOVED in stored and BODY in stored):
        return stored
    body = stored[BODY]
    if rederive is None or not isinstance(body, dict):
        return body
    return rederive(body, list(stored[REMOVED]))


def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\0")
    digest.update(request.path.encode())
    digest.update(b"\0")
    if not (request.content_type or "").startswith("multipart/"):
        try:
            digest.update(request._request.body)
        except Exception:  # the stream was already read: the key alone decides
            digest.update(b"(unread)")
    return digest.hexdigest()


def _claim(request: Request, key: str, fingerprint: str) -> IdempotentRequest | None:
    """Our claim on the key, or None when an earlier, unexpired request holds it."""
    for _attempt in range(2):
        try:
            with transaction.atomic():
                return IdempotentRequest.objects.create(user=request.user, key=key, fingerprint=fingerprint)
        except IntegrityError:
            # A record past its retention is never replayed: it goes, and the key runs anew.
            stale = IdempotentRequest.objects.filter(user=request.user, key=key, created_at__lt=_expired_before())
            if not stale.delete()[0]:
                return None
    return None


def idempotent(
    request: Request,
    create: Callable[[], Response],
    rederive: Callable[[dict, list[str]], dict] | None = None,
) -> Response:
    """Run `create` once per (user, key); `rederive(body, fields)` restores protected fields on replay."""
    key = request.headers.get(HEADER, "").strip()
    if not key or not request.user or not request.user.is_authenticated:
        return create()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        return Response({HEADER: [_("Use a printable key of at most 200 characters.")]}, status=400)
    fingerprint = _fingerprint(request)
    claim = _claim(request, key, fingerprint)
    if claim is None:
        earlier = IdempotentRequest.objects.filter(user=request.user, key=key).first()
        if earlier is None or earlier.status_code is None:
            return Response({"detail": _("The same request is still being handled; retry shortly.")}, status=409)
        if earlier.fingerprint != fingerprint:
            return Response(
                {HEADER: [_("This key was already used for a different request.")]},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        replay = Response(replayable(earlier.response, rederive), status=earlier.status_code)
        replay["Idempotent-Replayed"] = "true"
        return replay
    response = create()
    if status.is_success(response.status_code):
        claim.status_code = response.status_code
        claim.response = storable(request, response.data)
        claim.save(update_fields=["status_code", "response"])
    else:
        claim.delete()  # nothing was created: a retry with this key may run again
    return response


def idempotent_create(method: Callable) -> Callable:
    """Decorate a viewset's own `create` so it honours `Idempotency-Key`.

    A viewset whose answers carry protected fields defines `rederive_protected(body, fields)`.
    """

    @functools.wraps(method)
    def wrapper(self, request: Request, *args, **kwargs) -> Response:
        return idempotent(
            request, lambda: method(self, request, *args, **kwargs), getattr(self, "rederive_protected", None)
        )

    return wrapper


class IdempotentCreateMixin:
    """For a viewset: POST to its list honours `Idempotency-Key` (see `idempotent_create`)."""

    def create(self, request: Request, *args, **kwargs) -> Response:
        return idempotent(
            request,
            lambda: super(IdempotentCreateMixin, self).create(request, *args, **kwargs),
            getattr(self, "rederive_protected", None),
        )


def once_per_form(view: Callable) -> Callable:
    """For a page that creates something: a form sent twice (a double click, a resent page) with the
    same `form_token` creates once; the repeat is sent where the first one went."""
    from django.http import HttpResponseRedirect, JsonResponse

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        token = request.POST.get("form_token", "").strip() if request.method == "POST" else ""
        if not token or not request.user.is_authenticated or len(token) > 64 or not token.isalnum():
            return view(request, *args, **kwargs)
        key = f"form:{token}"
        try:
            with transaction.atomic():
                claim = IdempotentRequest.objects.create(user=request.user, key=key, fingerprint=request.path[:64])
        except IntegrityError:
            earlier = IdempotentRequest.objects.filter(user=request.user, key=key).first()
            answer = (earlier.response or {}) if earlier else {}
            if "location" in answer:
                return HttpResponseRedirect(answer["location"])
            if "json" in answer:
                if request.headers.get("X-Autosave") != "1" and str(answer["json"].get("url", "")).startswith("/"):
                    # Back + Save after a background save: the form becomes the record it created.
                    return HttpResponseRedirect(answer["json"]["url"])
                return JsonResponse(answer["json"], status=earlier.status_code or 200)
            return view(request, *args, **kwargs)  # the first attempt stored nothing usable: run normally
        response = view(request, *args, **kwargs)
        shown = protected.shown(request)  # a JSON answer carrying protected fields is never stored
        if response.status_code in (301, 302, 303) and response.get("Location"):
            claim.status_code, claim.response = response.status_code, {"location": response["Location"]}
        elif isinstance(response, JsonResponse) and status.is_success(response.status_code) and not shown:
            import json

            claim.status_code, claim.response = response.status_code, {"json": json.loads(response.content)}
        else:
            claim.delete()  # a form with errors created nothing; its corrected copy must run
            return response
        claim.save(update_fields=["status_code", "response"])
        return response

    return wrapper
