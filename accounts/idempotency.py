"""`Idempotency-Key` for API create requests: the same request sent twice creates one record.

A client (a field app on a flaky link, a script that retries, a double click) sends a unique key
with a POST. The first request runs and its answer is stored with the key, in the same transaction
as the record it created; a repeat with the same key and the same body gets that answer again
(`Idempotent-Replayed: true`), and nothing new is created. The same key with a different body is
a 422. Two copies arriving at once: the second waits for the first's transaction (the unique key),
then replays its answer. A request that failed stored nothing (its transaction rolled back), so a
retry runs again.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from .models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
KEEP_FOR = timedelta(days=2)


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


def idempotent(request: Request, create: Callable[[], Response]) -> Response:
    key = request.headers.get(HEADER, "").strip()
    if not key or not request.user or not request.user.is_authenticated:
        return create()
    if len(key) > MAX_KEY_LENGTH or not key.isprintable():
        return Response({HEADER: [_("Use a printable key of at most 200 characters.")]}, status=400)
    fingerprint = _fingerprint(request)
    try:
        with transaction.atomic():
            claim = IdempotentRequest.objects.create(user=request.user, key=key, fingerprint=fingerprint)
    except IntegrityError:
        earlier = IdempotentRequest.objects.filter(user=request.user, key=key).first()
        if earlier is None or earlier.status_code is None:
            return Response({"detail": _("The same request is still being handled; retry shortly.")}, status=409)
        if earlier.fingerprint != fingerprint:
            return Response(
                {HEADER: [_("This key was already used for a different request.")]},
                status=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        replay = Response(earlier.response, status=earlier.status_code)
        replay["Idempotent-Replayed"] = "true"
        return replay
    response = create()
    if status.is_success(response.status_code):
        claim.status_code = response.status_code
        claim.response = response.data
        claim.save(update_fields=["status_code", "response"])
    else:
        claim.delete()  # nothing was created: a retry with this key may run again
    IdempotentRequest.objects.filter(created_at__lt=timezone.now() - KEEP_FOR).delete()
    return response


def idempotent_create(method: Callable) -> Callable:
    """Decorate a viewset's own `create` so it honours `Idempotency-Key`."""

    @functools.wraps(method)
    def wrapper(self, request: Request, *args, **kwargs) -> Response:
        return idempotent(request, lambda: method(self, request, *args, **kwargs))

    return wrapper


class IdempotentCreateMixin:
    """For a viewset: POST to its list honours `Idempotency-Key`."""

    def create(self, request: Request, *args, **kwargs) -> Response:
        return idempotent(request, lambda: super(IdempotentCreateMixin, self).create(request, *args, **kwargs))


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
        if response.status_code in (301, 302, 303) and response.get("Location"):
            claim.status_code, claim.response = response.status_code, {"location": response["Location"]}
        elif isinstance(response, JsonResponse) and status.is_success(response.status_code):
            import json

            claim.status_code, claim.response = response.status_code, {"json": json.loads(response.content)}
        else:
            claim.delete()  # a form with errors created nothing; its corrected copy must run
            return response
        claim.save(update_fields=["status_code", "response"])
        return response

    return wrapper
