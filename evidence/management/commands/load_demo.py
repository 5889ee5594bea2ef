"""Load demo users and a small, realistic demo case file. Idempotent; refuses to run with DEBUG off.

The demo users' passwords are printed when the users are created; `--reset-passwords` gives each
existing demo user a new one and prints it again (the case file is left as it is).

It lives in the evidence app because a demo case needs evidence, and evidence may import incidents
(never the reverse). Everything is created through the same services and workflow as the site: the
documenter records and submits, the reviewer approves the evidence and then the incidents, the admin
computes and publishes a count — so a fresh `make run` shows every page with something on it.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from counts import services as counts
from evidence import services as evidence_services
from incidents import services, workflow
from incidents.models import Incident, Location, Perpetrator, ReportingPeriod, Weapon

DEMO_USERS = [("documenter", "documenter"), ("reviewer", "reviewer"), ("admin", "admin")]
PERIOD = (
    "Idlib offensive, January 2020 (demo)",
    "هجوم إدلب، كانون الثاني 2020 (تجريبي)",
    dt.date(2020, 1, 12),
    dt.date(2020, 1, 27),
)

# (title, date, governorate, perpetrator, weapon, injured, victims [(name, name_ar, sex, age)], state)
CASES = [
    (
        "Airstrike on the vegetable market in Maarat al-Numan",
        dt.date(2020, 1, 15),
        "Idlib",
        "Russian forces",
        Weapon.FIXED_WING_AIRCRAFT,
        12,
        [
            ("Ahmad Khaled", "أحمد خالد", "male", 34),
            ("Fatima Khaled", "فاطمة خالد", "female", 29),
            ("Mariam Khaled", "مريم خالد", "female", 7),
            ("Omar Haj Ali", "عمر الحاج علي", "male", 52),
            ("Hasan Haj Ali", "حسن الحاج علي", "male", 16),
        ],
        "verified",
    ),
    (
        "Shelling of a residential street in Atarib",
        dt.date(2020, 1, 20),
        "Aleppo",
        "Syrian regime forces",
        Weapon.ARTILLERY,
        3,
        [("Khadija Darwish", "خديجة درويش", "female", 41), ("Yusuf Darwish", "يوسف درويش", "male", 11)],
        "verified",
    ),
    (
        "Barrel bombs on Kafr Nabl",
        dt.date(2020, 1, 24),
        "Idlib",
        "Syrian regime forces",
        Weapon.BARREL_BOMB,
        5,
        [("Unknown man", "رجل مجهول الهوية", "male", None)],
        "submitted",
    ),
    (
        "Drone strike near Sarmada",
        dt.date(2020, 1, 26),
        "Idlib",
        "Russian forces",
        Weapon.DRONE,
        0,
        [("Samir Bakkour", "سمير بكّور", "male", 45)],
        "draft",
    ),
]


class Command(BaseCommand):
    help = "Create demo users (documenter, reviewer, admin) and a demo case file. Development only."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--allow-production", action="store_true", help="Run even with DEBUG off (never do this).")
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="Give the demo users (documenter, reviewer, admin) new passwords and print them.",
        )

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError("Demo data is for development only (DEBUG is off).")
        users = self._users(reset_passwords=options["reset_passwords"])
        self.stdout.write(
            "reviewer and admin sign in with a second factor: an admin's one-time enrolment link shows a QR "
            "code to scan with an authenticator app (e.g. FreeOTP, Aegis, Google Authenticator), then the site "
            "asks for the app's six-digit code each time."
        )
        self._enrolment_links(users)
        documenter, reviewer, admin = users["documenter"], users["reviewer"], users["admin"]
        if Incident.objects.filter(created_by=documenter).exists():
            self.stdout.write("demo case file already present")
            return
        name, name_ar, start, end = PERIOD
        period, _ = ReportingPeriod.objects.get_or_create(
            name=name, defaults={"name_ar": name_ar, "start": start, "end": end}
        )
        for title, date, place, party, weapon, injured, victims, state in CASES:
            incident = services.create_incident(
                author=documenter,
                title=title,
                description="Demo record: fictional details for trying the system out.",
                occurred_on=date,
                location=Location.objects.get(name=place, level="governorate"),
                perpetrator=Perpetrator.objects.get(name=party),
                weapon=weapon,
                injured_count=injured,
            )
            for victim_name, victim_name_ar, sex, age in victims:
                services.create_victim(
                    author=documenter,
                    incident=incident,
                    name=victim_name,
                    name_ar=victim_name_ar,
                    sex=sex,
                    age_years=age,
                )
            source = evidence_services.create_source(
                author=documenter,
                incident=incident,
                kind="news_article",
                url="https://example.org/demo-report",
                title=f"Local news report (demo): {title}",
                published_on=date,
            )
            if state == "draft":
                continue
            workflow.submit(documenter, incident)  # takes its victims and the source along
            if state == "verified":
                workflow.review(reviewer, source, "approve", "Matches the victims' list.")
                workflow.review(reviewer, incident, "approve", "Checked against the report and the names.")
        snapshot = counts.request_count(actor=admin, period=period, enqueue=False)
        counts.run_count(snapshot.pk)
        snapshot.refresh_from_db()
        counts.publish(actor=admin, snapshot=snapshot)
        self.stdout.write(self.style.SUCCESS(f"demo case file created: {len(CASES)} incidents, one published count"))

    def _enrolment_links(self, users: dict) -> None:
        """Demo only: the link an admin would send, for each demo user who still has no device."""
        import os

        from django.utils import translation
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from accounts import enrolment

        site = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
        for username in ("reviewer", "admin"):
            user = users[username]
            if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                continue
            with translation.override("en"):
                path = enrolment.issue_link(actor=None, user=user)
            self.stdout.write(
                self.style.WARNING(f"demo user {username!r} enrolment link (sign in first, works once): {site}{path}")
            )

    def _users(self, reset_passwords: bool = False) -> dict:
        User = get_user_model()
        users = {}
        for username, group_name in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                password = secrets.token_urlsafe(12)
                user = User.objects.create_user(username=username, password=password, is_staff=(username == "admin"))
                self.stdout.write(self.style.WARNING(f"demo user {username!r} password: {password}  (shown once)"))
            elif reset_passwords:
                password = secrets.token_urlsafe(12)
                user.set_password(password)
                user.save(update_fields=["password"])
                self.stdout.write(self.style.WARNING(f"demo user {username!r} new password: {password}"))
            user.groups.add(Group.objects.get(name=group_name))
            users[username] = user
        return users
