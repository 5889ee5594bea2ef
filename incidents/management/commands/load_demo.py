"""Load demo users and a few demo incidents. Idempotent; refuses to run in production (DEBUG off)."""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from incidents import services
from incidents.models import Incident, Location, Perpetrator, Weapon

DEMO_USERS = [("documenter", "documenter"), ("reviewer", "reviewer"), ("admin", "admin")]


class Command(BaseCommand):
    help = "Create demo users (documenter, reviewer, admin) and demo incidents. Development only."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--allow-production", action="store_true", help="Run even with DEBUG off (never do this).")

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        if not settings.DEBUG and not options["allow_production"]:
            raise CommandError("Demo data is for development only (DEBUG is off).")
        User = get_user_model()
        users = {}
        for username, group_name in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                password = secrets.token_urlsafe(12)
                user = User.objects.create_user(username=username, password=password, is_staff=(username == "admin"))
                self.stdout.write(self.style.WARNING(f"demo user {username!r} password: {password}  (shown once)"))
            user.groups.add(Group.objects.get(name=group_name))
            users[username] = user

        self.stdout.write(
            "reviewer and admin sign in with a second factor: at the first sign-in the site shows a QR code "
            "to scan with an authenticator app (e.g. FreeOTP, Aegis, Google Authenticator) at "
            "/en/account/two-factor/enrol/, then asks for the app's six-digit code each time."
        )
        documenter = users["documenter"]
        if Incident.objects.filter(created_by=documenter).exists():
            self.stdout.write("demo incidents already present")
            return
        idlib = Location.objects.get(name="Idlib", level="governorate")
        aleppo = Location.objects.get(name="Aleppo", level="governorate")
        regime = Perpetrator.objects.get(name="Syrian regime forces")
        russia = Perpetrator.objects.get(name="Russian forces")
        airstrike = services.create_incident(
            author=documenter,
            title="Airstrike on a market in Maarat al-Numan",
            description="Demo record: warplanes struck the vegetable market at midday.",
            occurred_on=dt.date(2020, 1, 15),
            location=idlib,
            perpetrator=russia,
            weapon=Weapon.FIXED_WING_AIRCRAFT,
            injured_count=12,
        )
        for name, name_ar, sex, age in [
            ("Ahmad Khaled", "أحمد خالد", "male", 34),
            ("Fatima Khaled", "فاطمة خالد", "female", 29),
            ("Mariam Khaled", "مريم خالد", "female", 7),
        ]:
            services.create_victim(
                author=documenter, incident=airstrike, name=name, name_ar=name_ar, sex=sex, age_years=age
            )
        services.create_incident(
            author=documenter,
            title="Shelling of a residential street",
            description="Demo record: artillery shells hit houses in the east of the city.",
            occurred_on=dt.date(2020, 1, 20),
            location=aleppo,
            perpetrator=regime,
            weapon=Weapon.ARTILLERY,
            injured_count=3,
        )
        self.stdout.write(self.style.SUCCESS("demo incidents created"))
