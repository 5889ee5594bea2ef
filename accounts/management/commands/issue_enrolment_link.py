"""`manage.py issue_enrolment_link USERNAME`: print a one-time link that lets USERNAME enrol an
authenticator app (accounts.enrolment). Send it to the person by a channel other than their password's."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from accounts import enrolment


class Command(BaseCommand):
    help = "Print a one-time second-factor enrolment link for a user (valid OTP_ENROLMENT_LINK_HOURS hours)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--base-url",
            default="",
            help="The site's address, e.g. https://casualties.example.org (without it, the path only).",
        )
        parser.add_argument("--language", default="en", choices=[code for code, _name in settings.LANGUAGES])

    def handle(self, *args, **options) -> None:
        user = get_user_model().objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"no active user named {options['username']!r}")
        with translation.override(options["language"]):
            path = enrolment.issue_link(actor=None, user=user)
        self.stdout.write(options["base_url"].rstrip("/") + path)
        self.stderr.write(
            f"valid for {settings.OTP_ENROLMENT_LINK_HOURS} hours, once; {user.get_username()} signs in with "
            "the password, then opens it"
        )
