"""First enrolment of a second factor needs a one-time link from an admin.

Without it, anyone holding a reviewer's password could enrol their own authenticator app on an account
that has none yet, and from then on pass as the reviewer. So the enrolment page shows a secret only
to a session that opened an enrolment link issued for that account (`manage.py issue_enrolment_link
USERNAME`, or the "Issue a second-factor enrolment link" action on the admin's user list), delivered to
the person by a channel other than the password's.

A link is signed (SECRET_KEY), names its account, expires after OTP_ENROLMENT_LINK_HOURS, and works
once: it carries a random nonce, and opening it writes the audit entry `auth.enrolment_link_used` with
that nonce (the append-only audit log is the ledger of spent links; no table of its own). It is also
bound to the account's password and devices, so changing the password or enrolling a device ends every
link issued before. Opening it replaces any pending device with a fresh one, for that session only.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEntry
from audit.services import lock_chain, record_event

SALT = "accounts.enrolment-link"
SESSION_DEVICE_KEY = "enrolment_device_id"
USED = "auth.enrolment_link_used"


def _state(user: Any) -> str:
    devices = list(TOTPDevice.objects.filter(user=user).order_by("pk").values_list("pk", flat=True))
    return hashlib.sha256(f"{user.password}|{user.is_active}|{devices}".encode()).hexdigest()[:24]


def issue_link(*, actor: Any, user: Any) -> str:
    """The path of a new enrolment link for `user` (prefix it with the site's address)."""
    token = signing.dumps({"u": user.pk, "s": _state(user), "n": secrets.token_urlsafe(12)}, salt=SALT)
    record_event(actor=actor, action="auth.enrolment_link_issued", details={"username": user.get_username()})
    return reverse("otp-enrol-link", kwargs={"token": token})


def redeem(user: Any, token: str) -> TOTPDevice | None:
    """Open `token` for `user`: a fresh pending device, or None (not this user's, expired, or used)."""
    max_age = settings.OTP_ENROLMENT_LINK_HOURS * 3600
    try:
        claim = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.BadSignature:
        claim = None
    with transaction.atomic():
        lock_chain()  # two openings of one link at once: the second sees the first's entry
        valid = isinstance(claim, dict) and claim.get("u") == user.pk and claim.get("s") == _state(user)
        spent = valid and AuditEntry.objects.filter(action=USED, details__link=str(claim.get("n"))).exists()
        if not valid or spent:
            record_event(actor=user, action="auth.enrolment_link_refused", details={"spent": bool(spent)})
            return None
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)
        record_event(actor=user, action=USED, details={"link": str(claim["n"])})
    return device
