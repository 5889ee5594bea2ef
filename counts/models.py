"""What a count snapshot is: its parameters, its stored figures, and whether it is published.

The table keeps the name it had when snapshots lived in the incidents app (`incidents_countsnapshot`,
migrations incidents/0004 and counts/0001): no row moved, and the database trigger that freezes a
published snapshot (created by incidents/0004) stays attached to it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from incidents.models import ReportingPeriod


class CountSnapshotQuerySet(models.QuerySet):
    def published(self) -> CountSnapshotQuerySet:
        """What the public sees: finished snapshots that were published, the latest publication first."""
        return self.filter(published_at__isnull=False, status=CountSnapshot.State.DONE).order_by("-published_at", "-id")

    def unfinished(self) -> CountSnapshotQuerySet:
        """Snapshots still waiting for a worker or being computed."""
        return self.filter(status__in=[CountSnapshot.State.PENDING, CountSnapshot.State.RUNNING])


class CountSnapshot(models.Model):
    """A computed, stored answer to "how many verified civilian deaths, by whom, where, when".

    Created `pending` by an admin, computed by a Celery task (`running` → `done` or `failed`),
    then possibly published. A published snapshot is frozen (a database trigger refuses any change);
    a correction is a new snapshot that names the one it supersedes.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(_("status"), max_length=8, choices=State.choices, default=State.PENDING, db_index=True)
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    period = models.ForeignKey(
        ReportingPeriod,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="count_snapshots",
        verbose_name=_("reporting period"),
    )
    # Sorted lists of ids, as requested (each includes its subtree when counting).
    locations = models.JSONField(_("locations"), default=list, blank=True)
    perpetrators = models.JSONField(_("perpetrators"), default=list, blank=True)
    massacre_threshold = models.PositiveSmallIntegerField(_("massacre threshold"))
    rule_version = models.CharField(_("rule version"), max_length=20, blank=True)
    result = models.JSONField(_("result"), null=True, blank=True)
    # The period's, places' and parties' names (English and Arabic) as they were when the count was
    # computed, so renaming one later never changes a published snapshot: {"period": {id, name, name_ar}
    # or null, "locations": [...], "perpetrators": [...]}. Null for snapshots computed before 0002.
    # Null and no default: SQLite adds such a column in place; rebuilding the table would drop the
    # trigger that freezes published snapshots.
    parameter_names = models.JSONField(_("names of the parameters"), null=True, blank=True, editable=False)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, blank=True)
    summary_en = models.TextField(_("summary (English)"), blank=True)
    summary_ar = models.TextField(_("summary (Arabic)"), blank=True)
    failure_reason = models.TextField(_("failure reason"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    supersedes = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="superseded_by",
        verbose_name=_("supersedes"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = CountSnapshotQuerySet.as_manager()

    class Meta:
        db_table = "incidents_countsnapshot"
        ordering = ["-created_at", "-id"]
        verbose_name = _("count snapshot")
        verbose_name_plural = _("count snapshots")
        constraints = [
            models.CheckConstraint(condition=Q(date_to__gte=models.F("date_from")), name="snapshot_window_ordered"),
            models.CheckConstraint(
                condition=Q(published_at__isnull=True) | Q(status="done"), name="snapshot_published_only_when_done"
            ),
            models.CheckConstraint(
                condition=~Q(status="done") | (Q(result__isnull=False) & ~Q(fingerprint="")),
                name="snapshot_done_has_figures",
            ),
            models.CheckConstraint(condition=~Q(supersedes=models.F("pk")), name="snapshot_not_own_correction"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.date_from}–{self.date_to} ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def is_finished(self) -> bool:
        return self.status in (self.State.DONE, self.State.FAILED)


# --- Rollups of counted victims (maintained by the database on PostgreSQL: counts/rollup.py) ----------


class VictimFigures(models.Model):
    """The figures of every victim tier (counts/rollup.py VICTIM_FIGURES)."""

    total = models.IntegerField(default=0)
    children = models.IntegerField(default=0)
    women = models.IntegerField(default=0)
    men = models.IntegerField(default=0)
    unknown = models.IntegerField(default=0)
    role_civil_defense = models.IntegerField(default=0)
    role_medical = models.IntegerField(default=0)
    role_media = models.IntegerField(default=0)
    role_humanitarian = models.IntegerField(default=0)
    role_education = models.IntegerField(default=0)
    role_other = models.IntegerField(default=0)
    # Victims every rule but 3 counts (confirmed duplicates of another record): `excluded_duplicates`.
    duplicates = models.IntegerField(default=0)

    class Meta:
        abstract = True


class VictimRollup(VictimFigures):
    """Counted victims by (date of death, place of death, incident's perpetrator): categories and roles
    as columns. One row per key with at least one counted victim; kept right by the database triggers
    of migration counts/0004 (counts/rollup.py), never written by application code."""

    death_date = models.DateField()
    place_id = models.BigIntegerField()
    perpetrator_id = models.BigIntegerField()

    class Meta:
        db_table = "counts_victim_rollup"
        constraints = [
            models.UniqueConstraint(fields=["death_date", "place_id", "perpetrator_id"], name="victim_rollup_key"),
        ]

    def __str__(self) -> str:
        return f"{self.death_date} place {self.place_id} party {self.perpetrator_id}: {self.total}"


class IncidentRollup(models.Model):
    """Counted victims per incident and (date of death, place of death), with the incident's date,
    place, perpetrator and injured as part of the key: what massacres, `incidents` and `injured` need."""

    incident_id = models.BigIntegerField()
    occurred_on = models.DateField()
    perpetrator_id = models.BigIntegerField()
    location_id = models.BigIntegerField()
    injured_count = models.IntegerField()
    death_date = models.DateField()
    place_id = models.BigIntegerField()
    victims = models.IntegerField(default=0)

    class Meta:
        db_table = "counts_incident_rollup"
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "death_date",
                    "incident_id",
                    "place_id",
                    "occurred_on",
                    "perpetrator_id",
                    "location_id",
                    "injured_count",
                ],
                name="incident_rollup_key",
            ),
        ]
        indexes = [models.Index(fields=["incident_id", "death_date"], name="incident_rollup_incident")]

    def __str__(self) -> str:
        return f"incident {self.incident_id} {self.death_date} place {self.place_id}: {self.victims}"


class DayRollup(VictimFigures):
    """Counted victims by (date of death, incident's perpetrator): totals, roles, by perpetrator and
    by date of a window without a place filter."""

    death_date = models.DateField()
    perpetrator_id = models.BigIntegerField()

    class Meta:
        db_table = "counts_day_rollup"
        constraints = [models.UniqueConstraint(fields=["death_date", "perpetrator_id"], name="day_rollup_key")]

    def __str__(self) -> str:
        return f"{self.death_date} party {self.perpetrator_id}: {self.total}"


class MonthRollup(VictimFigures):
    """Counted victims by (first day of the month of death, governorate of the place of death,
    perpetrator): by governorate of a window's whole months."""

    month = models.DateField()
    governorate_id = models.BigIntegerField()
    perpetrator_id = models.BigIntegerField()

    class Meta:
        db_table = "counts_month_rollup"
        constraints = [
            models.UniqueConstraint(fields=["month", "governorate_id", "perpetrator_id"], name="month_rollup_key")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} governorate {self.governorate_id} party {self.perpetrator_id}: {self.total}"


class IncidentTotal(models.Model):
    """Per incident with counted victims: how many, the first and last date of death, and the
    incident's date, perpetrator, place, governorate and injured (massacres; edge incidents)."""

    incident_id = models.BigIntegerField(unique=True)
    victims = models.IntegerField()
    first_death = models.DateField()
    last_death = models.DateField()
    occurred_on = models.DateField()
    perpetrator_id = models.BigIntegerField()
    location_id = models.BigIntegerField()
    governorate_id = models.BigIntegerField()
    injured_count = models.IntegerField()

    class Meta:
        db_table = "counts_incident_total"
        indexes = [
            # counts/rollup.py MASSACRE_FLOOR: massacres of the incidents wholly inside a window, read
            # from the index alone (it covers what the massacre figures group by).
            models.Index(
                fields=["first_death", "last_death", "victims"],
                name="incident_total_massacre",
                include=["occurred_on", "perpetrator_id", "governorate_id"],
                condition=models.Q(victims__gte=5),
            ),
            # The same massacres by last date of death: those whose last death falls in a partial
            # month at a window's end (counts/rollup.py `_kept_massacres_sql`).
            models.Index(
                fields=["last_death", "first_death"],
                name="incident_total_massacre_last",
                include=["governorate_id", "perpetrator_id"],
                condition=models.Q(victims__gte=5),
            ),
        ]

    def __str__(self) -> str:
        return f"incident {self.incident_id}: {self.victims} ({self.first_death}..{self.last_death})"


class IncidentSpan(models.Model):
    """How many incidents (and their injured) have their counted victims' deaths between
    `first_death` and `last_death`, by incident date and perpetrator: `incidents` and `injured` of
    the incidents wholly inside a window."""

    first_death = models.DateField()
    last_death = models.DateField()
    occurred_on = models.DateField()
    perpetrator_id = models.BigIntegerField()
    incidents = models.IntegerField(default=0)
    injured = models.IntegerField(default=0)
    # Of `incidents`, those with at least counts/rollup.py MASSACRE_FLOOR counted victims.
    massacres = models.IntegerField(default=0)

    class Meta:
        db_table = "counts_incident_span"
        constraints = [
            models.UniqueConstraint(
                fields=["first_death", "last_death", "occurred_on", "perpetrator_id"], name="incident_span_key"
            )
        ]
        # The incidents whose last death falls in a partial month at a window's end (the key's index
        # finds those whose first death falls in one at its start; counts/rollup.py `_span_rows_sql`).
        indexes = [models.Index(fields=["last_death", "first_death"], name="incident_span_last")]

    def __str__(self) -> str:
        return f"{self.first_death}..{self.last_death} party {self.perpetrator_id}: {self.incidents}"


class MassacreMonth(models.Model):
    """Massacres (incidents with at least counts/rollup.py MASSACRE_FLOOR counted victims) by the month
    of their first and of their last counted death, governorate of the incident's place and
    perpetrator: by governorate of the massacres wholly inside a window's whole months."""

    first_month = models.DateField()
    last_month = models.DateField()
    governorate_id = models.BigIntegerField()
    perpetrator_id = models.BigIntegerField()
    massacres = models.IntegerField(default=0)

    class Meta:
        db_table = "counts_massacre_month"
        constraints = [
            models.UniqueConstraint(
                fields=["first_month", "last_month", "governorate_id", "perpetrator_id"], name="massacre_month_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_month:%Y-%m}..{self.last_month:%Y-%m} governorate {self.governorate_id}: {self.massacres}"


class IncidentMonth(models.Model):
    """`IncidentSpan` by the month of the first and of the last counted death: how many incidents
    (their injured, their massacres at counts/rollup.py MASSACRE_FLOOR) by incident date and
    perpetrator, for the incidents whose deaths all fall in a window's whole months. Its rows are
    bounded by days x parties x a few month pairs; the span tier's grow with the incidents' spans."""

    first_month = models.DateField()
    last_month = models.DateField()
    occurred_on = models.DateField()
    perpetrator_id = models.BigIntegerField()
    incidents = models.IntegerField(default=0)
    injured = models.IntegerField(default=0)
    massacres = models.IntegerField(default=0)

    class Meta:
        db_table = "counts_incident_month"
        constraints = [
            models.UniqueConstraint(
                fields=["first_month", "last_month", "occurred_on", "perpetrator_id"], name="incident_month_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_month:%Y-%m}..{self.last_month:%Y-%m} party {self.perpetrator_id}: {self.incidents}"
