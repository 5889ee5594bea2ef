"""Second factor (TOTP) rules: who needs one, enrolment, verification.

Reviewers and admins approve records and publish figures, so their accounts need more than a
password. A code is accepted once only: django-otp remembers the last accepted time step, so a
code seen by an onlooker (or replayed from a log) is refused.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.services import record_event
from incidents import roles

DEVICE_NAME = "authenticator app"


def needs_second_factor(user: Any) -> bool:
    """Reviewers, admins and staff must verify a TOTP code after their password."""
    if not getattr(settings, "OTP_REQUIRED_FOR_REVIEWERS", True):
        return False
    if not (user is not None and user.is_authenticated and user.is_active):
        return False
    return bool(user.is_staff or user.is_superuser or roles.can_review(user) or roles.can_manage_counts(user))


def has_confirmed_device(user: Any) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def pending_device(user: Any) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled (created on first call, reused until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def clean_code(code: Any) -> str:
    return "".join(ch for ch in str(code or "") if ch.isdigit())[:8]


@transaction.atomic
def confirm_enrolment(user: Any, code: Any) -> TOTPDevice | None:
    """Confirm the pending device when `code` matches it; the first valid code is then spent."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("id").first()
    code = clean_code(code)
    if device is None or not code or not device.verify_token(code):
        record_event(actor=user, action="auth.otp_enrolment_failed")
        return None
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    record_event(actor=user, action="auth.otp_enrolled")
    return device


@transaction.atomic
def verify_code(user: Any, code: Any) -> TOTPDevice | None:
    """The confirmed device that accepts `code` now (each code once), or None."""
    code = clean_code(code)
    if not code:
        return None
    for device in TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("id"):
        if device.verify_token(code):
            record_event(actor=user, action="auth.otp_verified")
            return device
    record_event(actor=user, action="auth.otp_failed")
    return None
