"""Second factor (TOTP) rules: who needs one, enrolment, verification.

Reviewers and admins approve records and publish figures, and identity-permission holders read
witnesses' names, so their accounts need more than a password. A code is accepted once only:
django-otp remembers the last accepted time step, so a code seen by an onlooker (or replayed from a
log) is refused; wrong codes throttle the device (each failure doubles the wait before the next try).

Codes are checked outside the request's transaction (X-OTP in `accounts.middleware` before the view's
transaction opens; the token, verification and enrolment views are non-atomic): `verify_code` commits
the device's state (throttle counter, last accepted step) and the audit entry in its own short
transaction, so a request that fails afterwards rolls back neither the trace of a wrong code nor the use
of a right one. (A second database connection would do the same on PostgreSQL, but on SQLite it waits
for the request's own write lock: checking before the request's transaction works on both.)
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import record_event
from config.client import client_address
from incidents import roles

IDENTITY_PERMISSION = "evidence.view_witness_identity"


def needs_second_factor(user: Any) -> bool:
    """Reviewers, admins, staff and witness-identity holders must verify a TOTP code after their password."""
    if not getattr(settings, "OTP_REQUIRED_FOR_REVIEWERS", True):
        return False
    if not (user is not None and user.is_authenticated and user.is_active):
        return False
    return bool(
        user.is_staff
        or user.is_superuser
        or roles.can_review(user)
        or roles.can_manage_counts(user)
        or user.has_perm(IDENTITY_PERMISSION)
    )


def has_confirmed_device(user: Any) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def clean_code(code: Any) -> str:
    return "".join(ch for ch in str(code or "") if ch.isdigit())[:8]


@transaction.atomic
def confirm_enrolment(user: Any, device_id: Any, code: Any) -> TOTPDevice | None:
    """Confirm the pending device `device_id` (opened by an enrolment link) when `code` matches it."""
    device = TOTPDevice.objects.select_for_update().filter(pk=device_id, user=user, confirmed=False).first()
    code = clean_code(code)
    if device is None or not code or not device.verify_token(code):
        record_event(actor=user, action="auth.otp_enrolment_failed")
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    record_event(actor=user, action="auth.otp_enrolled")
    return device


def _attempt_details(request: Any, via: str) -> dict[str, Any]:
    details: dict[str, Any] = {"via": via}
    if request is not None:
        details["ip"] = client_address(request)
        details["path"] = request.path
    return details


@transaction.atomic
def verify_code(
    user: Any, code: Any, *, request: Any = None, via: str = "web", record_success: bool = True
) -> TOTPDevice | None:
    """The confirmed device that accepts `code` now (each code once), or None.

    Call it outside the request's transaction (see the module docstring): this function's own
    transaction then commits the throttle, the spent code and the audit entry at once.
    """
    code = clean_code(code)
    details = _attempt_details(request, via)
    devices = list(TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("id"))
    for device in devices if code else []:
        if device.verify_token(code):
            if record_success:
                record_event(actor=user, action="auth.otp_verified", details=details)
            return device
    details["throttled"] = bool(devices) and not any(device.verify_is_allowed()[0] for device in devices)
    record_event(actor=user, action="auth.otp_failed", details=details)
    return None
