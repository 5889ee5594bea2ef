"""What the data is: places, parties, periods, incidents and victims.

Rules about what may happen to these rows live in services.py; the counting rules in counting.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections, models
from django.db.models import Case, F, Func, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from config.compiled import record_subtree

from . import roles
from .validators import validate_free_text, validate_name_text

EARLIEST_DATE = dt.date(1900, 1, 1)
# "Not in the future" is a CHECK on PostgreSQL (migration 0003); SQLite forbids CURRENT_DATE in a
# CHECK, so there the serializers alone refuse future dates.


class Status(models.TextChoices):
    """Review states shared by every reviewable kind (incident, victim, testimony, media item)."""

    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


EDITABLE_STATES = (Status.DRAFT, Status.CHANGES_REQUESTED)
MAX_KEY = 2**63 - 1  # the largest primary key (BigAutoField) the database can hold


# --- Coordinates (places and incidents) ---------------------------------------------------------


def coordinate_field(verbose_name: str, bound: int) -> models.DecimalField:
    """A latitude (bound 90) or longitude (bound 180) in decimal degrees, optional."""
    return models.DecimalField(
        verbose_name,
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-bound), MaxValueValidator(bound)],
    )


def coordinate_constraints(kind: str) -> list[models.CheckConstraint]:
    """The database's own range checks of `coordinate_field`s, named `<kind>_latitude_range` etc."""
    return [
        models.CheckConstraint(
            condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": -bound, f"{name}__lte": bound}),
            name=f"{kind}_{name}_range",
        )
        for name, bound in (("latitude", 90), ("longitude", 180))
    ]


# --- Trees -------------------------------------------------------------------------------------


class TreeQuerySet(models.QuerySet):
    def subtree_ids(self, root_ids: Iterable[int]) -> set[int]:
        """The given nodes and all their descendants, in one recursive statement (a filtered queryset:
        one statement per tree level, within its rows)."""
        # An id beyond the 64-bit key range names no node (and would overflow the database driver).
        ids = sorted({int(pk) for pk in root_ids if -MAX_KEY <= int(pk) <= MAX_KEY})
        if not ids:
            return set()
        if self.query.has_filters():
            record_subtree(None, tuple(ids), set())  # not repeatable from the ids alone: a list built on it is not kept
            return self._subtree_ids_by_level(ids)
        found = self._subtree_ids(ids)
        record_subtree(self.model, tuple(ids), found)  # a list compiled from it checks it again (config/compiled.py)
        return found

    def _subtree_ids(self, ids: list[int]) -> set[int]:
        connection = connections[self.db]
        table = connection.ops.quote_name(self.model._meta.db_table)
        pk = connection.ops.quote_name(self.model._meta.pk.column)
        parent = connection.ops.quote_name(self.model._meta.get_field("parent").column)
        marks = ", ".join(["%s"] * len(ids))
        # UNION (not UNION ALL): a node reached twice is kept once, so even a cycle ends.
        sql = (
            f"WITH RECURSIVE tree(node) AS (SELECT {pk} FROM {table} WHERE {pk} IN ({marks}) "  # noqa: S608 (names only)
            f"UNION SELECT child.{pk} FROM {table} child JOIN tree ON child.{parent} = tree.node) "
            "SELECT node FROM tree"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, ids)
            return {row[0] for row in cursor.fetchall()}

    def _subtree_ids_by_level(self, ids: list[int]) -> set[int]:
        found: set[int] = set(self.filter(pk__in=ids).values_list("pk", flat=True))
        frontier = set(found)
        while frontier:
            children = set(self.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
            found |= children
            frontier = children
        return found


class LocationQuerySet(TreeQuerySet):
    def governorate_of_each(self) -> dict[int, int]:
        """Every place's governorate (`GOVERNORATE_RULE`), walked in Python over the small table (one query)."""
        rows = self.model.objects.values_list("pk", "parent_id", "level")
        nodes = {pk: (parent, level) for pk, parent, level in rows}
        found: dict[int, int] = {}
        for pk in self.values_list("pk", flat=True):
            found[pk] = pk
            if nodes[pk][1] in AT_OR_ABOVE_GOVERNORATE:
                continue
            node = nodes[pk][0]
            for _step in range(PARENTS_TO_GOVERNORATE):
                if node is None:
                    break
                if nodes[node][1] == GOVERNORATE:
                    found[pk] = node
                    break
                node = nodes[node][0]
        return found


class Named(models.Model):
    """Reference data: a name in English and Arabic."""

    name = models.CharField(_("name"), max_length=200, validators=[validate_name_text])
    name_ar = models.CharField(_("Arabic name"), max_length=200, blank=True, validators=[validate_name_text])

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    def localized_name(self, language: str | None = None) -> str:
        return self.name_ar if language == "ar" and self.name_ar else self.name


class NamedTree(Named):
    """Reference data in a tree (places, parties): each node names its parent."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent")
    )

    class Meta:
        abstract = True


class Location(NamedTree):
    class Level(models.TextChoices):
        COUNTRY = "country", _("Country")
        GOVERNORATE = "governorate", _("Governorate")
        DISTRICT = "district", _("District")
        SUBDISTRICT = "subdistrict", _("Subdistrict")
        COMMUNITY = "community", _("Community")

    LEVEL_ORDER = ["country", "governorate", "district", "subdistrict", "community"]

    level = models.CharField(_("level"), max_length=12, choices=Level.choices)
    latitude = coordinate_field(_("latitude"), 90)
    longitude = coordinate_field(_("longitude"), 180)

    objects = LocationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="location_unique_name_per_parent"),
            *coordinate_constraints("location"),
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="location_not_own_parent"),
        ]


# --- The governorate of a place ---------------------------------------------------------------

# GOVERNORATE_RULE. The governorate of a place is the place itself when it is at governorate level or
# above (a place recorded at country level counts as its own row), else its nearest ancestor at
# governorate level within PARENTS_TO_GOVERNORATE parents (the most the level order allows: community,
# subdistrict, district), else the place itself (a place under no governorate is its own row too).
# Stated once, in three forms built from the same constants: `LocationQuerySet.governorate_of_each`
# (Python), `governorate_of` (an ORM expression) and `place_governorate_sql` (SQL);
# tests/counts/test_governorate_rule.py holds the three to one answer for every place of a tree.
GOVERNORATE = Location.Level.GOVERNORATE.value
AT_OR_ABOVE_GOVERNORATE = tuple(Location.LEVEL_ORDER[: Location.LEVEL_ORDER.index(GOVERNORATE) + 1])
PARENTS_TO_GOVERNORATE = len(Location.LEVEL_ORDER) - len(AT_OR_ABOVE_GOVERNORATE)


def governorate_of(prefix: str = "") -> Case:
    """`GOVERNORATE_RULE` as an ORM expression: the governorate id of the place at `prefix` (e.g.
    "incident__location__"; "" for a queryset of places)."""
    whens = [When(**{f"{prefix}level__in": AT_OR_ABOVE_GOVERNORATE}, then=F(f"{prefix}id"))]
    path = prefix
    for _step in range(PARENTS_TO_GOVERNORATE):
        path += "parent__"
        whens.append(When(**{f"{path}level": GOVERNORATE}, then=F(f"{path}id")))
    return Case(*whens, default=F(f"{prefix}id"))


def place_governorate_sql() -> str:
    """`GOVERNORATE_RULE` as SQL (PostgreSQL and SQLite): every place as (id, governorate_id). Built
    from the level constants only, so it binds nothing and can go into triggers and functions."""
    above = ", ".join(f"'{level}'" for level in AT_OR_ABOVE_GOVERNORATE)
    joins, whens, previous = [], [], "l"
    for step in range(1, PARENTS_TO_GOVERNORATE + 1):
        joins.append(f"LEFT JOIN incidents_location p{step} ON p{step}.id = {previous}.parent_id")
        whens.append(f"WHEN p{step}.level = '{GOVERNORATE}' THEN p{step}.id")
        previous = f"p{step}"
    return f"""SELECT l.id, CASE WHEN l.level IN ({above}) THEN l.id {" ".join(whens)}
                              ELSE l.id END AS governorate_id
            FROM incidents_location l {" ".join(joins)}"""  # noqa: S608 (constants only)


class Perpetrator(NamedTree):
    objects = TreeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("perpetrator")
        verbose_name_plural = _("perpetrators")
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="perpetrator_unique_name_per_parent"),
            models.CheckConstraint(condition=~Q(parent=models.F("pk")), name="perpetrator_not_own_parent"),
        ]


class ReportingPeriod(Named):
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))

    class Meta:
        ordering = ["-start", "name"]
        verbose_name = _("reporting period")
        verbose_name_plural = _("reporting periods")
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=models.F("start")), name="period_end_after_start"),
        ]


# --- Reviewable records --------------------------------------------------------------------------


def visibility_q(user: roles.UserLike, prefix: str = "") -> Q | None:
    """The rows of a reviewable kind that `user` may see, as a Q (None: nothing).

    Documenters see their own records in any state and verified records; reviewers and admins see
    everything except other people's drafts; everybody else sees nothing here (only published figures).
    """
    status = f"{prefix}status"
    author = f"{prefix}created_by"
    if roles.can_review(user) or roles.can_manage_counts(user):
        return ~Q(**{status: Status.DRAFT}) | Q(**{author: user})
    if roles.can_document(user):
        return Q(**{author: user}) | Q(**{status: Status.VERIFIED})
    return None


def review_queue_index(kind: str) -> models.Index:
    """The review queue (workflow.review_queue) of a reviewable kind: its submitted records in queue
    order, so a page reads its 50 rows from this index instead of sorting every submitted record."""
    return models.Index(fields=["updated_at", "id"], condition=Q(status="submitted"), name=f"{kind}_review_queue")


class ReviewableQuerySet(models.QuerySet):
    def visible_to(self, user: roles.UserLike) -> ReviewableQuerySet:
        condition = visibility_q(user)
        return self.none() if condition is None else self.filter(condition)

    def verified(self) -> ReviewableQuerySet:
        return self.filter(status=Status.VERIFIED)


class Reviewable(models.Model):
    """Fields every record under review carries. `status` is written only by the workflow."""

    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True, editable=False
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Incremented on every change; part of a count's fingerprint.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        abstract = True

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATES


class Weapon(models.TextChoices):
    FIXED_WING_AIRCRAFT = "fixed_wing_aircraft", _("Fixed-wing aircraft")
    HELICOPTER = "helicopter", _("Helicopter")
    BARREL_BOMB = "barrel_bomb", _("Barrel bomb")
    ARTILLERY = "artillery", _("Artillery")
    MISSILE = "missile", _("Missile")
    CLUSTER_MUNITION = "cluster_munition", _("Cluster munition")
    CHEMICAL = "chemical", _("Chemical weapon")
    DRONE = "drone", _("Drone")
    GROUND_ATTACK = "ground_attack", _("Ground attack")
    LANDMINE = "landmine", _("Landmine")
    OTHER = "other", _("Other")


class DatePrecision(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


class Incident(Reviewable):
    title = models.CharField(_("title"), max_length=300, validators=[validate_name_text])
    description = models.TextField(_("description"), blank=True, validators=[validate_free_text])
    occurred_on = models.DateField(_("date"), db_index=True)
    date_precision = models.CharField(
        _("date precision"), max_length=5, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("place"))
    latitude = coordinate_field(_("latitude"), 90)
    longitude = coordinate_field(_("longitude"), 180)
    perpetrator = models.ForeignKey(
        Perpetrator, on_delete=models.PROTECT, related_name="incidents", verbose_name=_("perpetrator")
    )
    weapon = models.CharField(_("weapon"), max_length=24, choices=Weapon.choices, default=Weapon.OTHER)
    injured_count = models.PositiveIntegerField(
        _("injured"), default=0, validators=[MinValueValidator(0), MaxValueValidator(1_000_000)]
    )
    # Where an imported incident came from: the source list's name and the key grouping its rows there
    # (both empty for an incident typed in by a documenter). (origin_source, origin_key) identifies it
    # across imports; origin_fingerprint is a digest of the values last imported, so a re-import can
    # tell an unchanged row from a corrected one without comparing every column.
    # (Database defaults too, so bulk writers that name only the columns they fill, COPY among them, still work.)
    origin_source = models.CharField(
        _("source list"), max_length=200, blank=True, default="", db_default="", editable=False
    )
    origin_key = models.CharField(
        _("key in the source list"), max_length=210, blank=True, default="", db_default="", editable=False
    )
    origin_fingerprint = models.CharField(max_length=32, blank=True, default="", db_default="", editable=False)

    objects = ReviewableQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-id"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        permissions = [
            ("review_record", "Can review records (approve, reject, request changes, reopen)"),
            ("manage_counts", "Can compute, publish and export casualty counts"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(injured_count__gte=0), name="incident_injured_not_negative"),
            models.CheckConstraint(condition=Q(occurred_on__gte=EARLIEST_DATE), name="incident_date_plausible"),
            *coordinate_constraints("incident"),
            models.UniqueConstraint(
                fields=["origin_source", "origin_key"],
                condition=~Q(origin_source=""),
                name="incident_unique_origin",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "occurred_on"], name="incident_status_date"),
            review_queue_index("incident"),
        ]

    # What __str__ reads, so a list can read a record's label with its row (the review queue).
    LABEL_FIELDS = ("occurred_on", "title")

    def __str__(self) -> str:
        return self.label_of(self.pk, self.occurred_on, self.title)

    @staticmethod
    def label_of(pk: int, occurred_on: object, title: str) -> str:
        return f"{occurred_on} {title}"


class Sex(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    UNKNOWN = "unknown", _("Unknown")


class AgeGroup(models.TextChoices):
    CHILD = "child", _("Child")
    ADULT = "adult", _("Adult")
    UNKNOWN = "unknown", _("Unknown")


class CivilianStatus(models.TextChoices):
    CIVILIAN = "civilian", _("Civilian")
    COMBATANT = "combatant", _("Combatant")
    UNKNOWN = "unknown", _("Unknown")


class Category(models.TextChoices):
    CHILD = "child", _("Child")
    WOMAN = "woman", _("Woman (adult female)")
    MAN = "man", _("Man (adult male)")
    UNKNOWN = "unknown", _("Unknown")


class Role(models.TextChoices):
    CIVIL_DEFENSE = "civil_defense", _("Civil defense")
    MEDICAL = "medical", _("Medical")
    MEDIA = "media", _("Media")
    HUMANITARIAN = "humanitarian", _("Humanitarian")
    EDUCATION = "education", _("Education")
    OTHER = "other", _("Other")


ADULT_AGE = 18
MAX_AGE = 130

_ADULT = Q(age_years__gte=ADULT_AGE) | Q(age_years__isnull=True, age_group=AgeGroup.ADULT)

# The one definition of a victim's category, evaluated by the database (a stored generated column),
# so counts group by it without Python: child = under 18 or age group child (a girl is a child);
# woman = adult female; man = adult male; anything else unknown.
CATEGORY_EXPRESSION = Case(
    When(Q(age_years__lt=ADULT_AGE) | Q(age_years__isnull=True, age_group=AgeGroup.CHILD), then=Value("child")),
    When(Q(sex=Sex.FEMALE) & _ADULT, then=Value("woman")),
    When(Q(sex=Sex.MALE) & _ADULT, then=Value("man")),
    default=Value("unknown"),
    output_field=models.CharField(max_length=8),
)


def age_group_for(age_years: int | None, given: str = AgeGroup.UNKNOWN) -> str:
    """The age group implied by an age in years (the given group when the age is unknown)."""
    if age_years is None:
        return given
    return AgeGroup.CHILD if age_years < ADULT_AGE else AgeGroup.ADULT


def _counted_q(prefix: str = "") -> Q:
    """Rules 1-3 of the counting rule (see counting.py), as a condition on a victim."""
    return Q(
        **{
            f"{prefix}status": Status.VERIFIED,
            f"{prefix}incident__status": Status.VERIFIED,
            f"{prefix}civilian_status": CivilianStatus.CIVILIAN,
            f"{prefix}duplicate_of__isnull": True,
        }
    )


def victim_visibility_q(user: roles.UserLike, prefix: str = "") -> Q | None:
    """The victims `user` may see, as a Q on the victim at `prefix` (None: nothing): the record itself
    and its incident both visible (`visibility_q`). With a prefix, the condition reads the joined victim
    row itself, as a join does, where `__in=Victim.objects.visible_to(user)` would read it a second time."""
    own = visibility_q(user, prefix=prefix)
    incident = visibility_q(user, prefix=f"{prefix}incident__")
    if own is None or incident is None:
        return None
    return own & incident


class VictimQuerySet(ReviewableQuerySet):
    def visible_to(self, user: roles.UserLike) -> VictimQuerySet:
        condition = victim_visibility_q(user)
        return self.none() if condition is None else self.filter(condition)

    def counted(
        self,
        date_from: dt.date,
        date_to: dt.date,
        location_ids: Iterable[int] | None = None,
        perpetrator_ids: Iterable[int] | None = None,
    ) -> VictimQuerySet:
        """The victims the counting rule counts for these parameters (counting.py states the rule).

        Annotated with `death_date` and `death_place_id` (the victim's own, else the incident's).
        Subtrees are expanded here, so a filter naming both a party and its child counts each victim once.
        """
        queryset = self.filter(_counted_q()).annotate(
            death_date=Coalesce(F("date_of_death"), F("incident__occurred_on")),
            death_place_id=Coalesce(F("place_of_death_id"), F("incident__location_id")),
        )
        queryset = queryset.filter(death_date__gte=date_from, death_date__lte=date_to)
        location_ids = list(location_ids or [])
        if location_ids:
            queryset = queryset.filter(death_place_id__in=sorted(Location.objects.subtree_ids(location_ids)))
        perpetrator_ids = list(perpetrator_ids or [])
        if perpetrator_ids:
            queryset = queryset.filter(
                incident__perpetrator_id__in=sorted(Perpetrator.objects.subtree_ids(perpetrator_ids))
            )
        return queryset


class Victim(Reviewable):
    ROLE_FIELDS = {
        Role.CIVIL_DEFENSE: "role_civil_defense",
        Role.MEDICAL: "role_medical",
        Role.MEDIA: "role_media",
        Role.HUMANITARIAN: "role_humanitarian",
        Role.EDUCATION: "role_education",
        Role.OTHER: "role_other",
    }

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="victims", verbose_name=_("incident"))
    name = models.CharField(_("name"), max_length=300, blank=True, validators=[validate_name_text])
    name_ar = models.CharField(_("Arabic name"), max_length=300, blank=True, validators=[validate_name_text])
    sex = models.CharField(_("sex"), max_length=7, choices=Sex.choices, default=Sex.UNKNOWN)
    age_years = models.PositiveSmallIntegerField(
        _("age in years"), null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(MAX_AGE)]
    )
    age_group = models.CharField(_("age group"), max_length=7, choices=AgeGroup.choices, default=AgeGroup.UNKNOWN)
    civilian_status = models.CharField(
        _("civilian status"), max_length=9, choices=CivilianStatus.choices, default=CivilianStatus.CIVILIAN
    )
    # Roles are separate columns so counts can sum them in the database on every backend.
    role_civil_defense = models.BooleanField(default=False)
    role_medical = models.BooleanField(default=False)
    role_media = models.BooleanField(default=False)
    role_humanitarian = models.BooleanField(default=False)
    role_education = models.BooleanField(default=False)
    role_other = models.BooleanField(default=False)
    date_of_death = models.DateField(_("date of death"), null=True, blank=True)
    place_of_death = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="victims_killed_here",
        verbose_name=_("place of death"),
    )
    # Identifying fields (personal data: shown to the record's author, reviewers and admins only).
    date_of_birth = models.DateField(_("date of birth"), null=True, blank=True)
    identity_number = models.CharField(
        _("identity number"), max_length=64, blank=True, default="", db_default="", validators=[validate_name_text]
    )
    # Where an imported record came from: the source list's name and the row's id in it (both empty for a
    # record typed in by a documenter). (origin_source, origin_record_id) identifies it across imports.
    origin_source = models.CharField(
        _("source list"), max_length=200, blank=True, default="", db_default="", editable=False
    )
    origin_record_id = models.CharField(
        _("record id in the source list"), max_length=200, blank=True, default="", db_default="", editable=False
    )
    # A digest of the cells and values last imported for this record (see Incident.origin_fingerprint).
    origin_fingerprint = models.CharField(max_length=32, blank=True, default="", db_default="", editable=False)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates", editable=False
    )
    category = models.GeneratedField(
        expression=CATEGORY_EXPRESSION, output_field=models.CharField(max_length=8), db_persist=True
    )
    # The names folded for search (names.normalise_arabic; the database function arabic_fold, see search.py):
    # stored generated columns, so the database keeps them right for every writer (services, bulk_create,
    # COPY) and a search reads them instead of folding every candidate row again.
    name_folded = models.GeneratedField(
        expression=Func(F("name"), function="arabic_fold", output_field=models.TextField()),
        output_field=models.TextField(),
        db_persist=True,
    )
    name_ar_folded = models.GeneratedField(
        expression=Func(F("name_ar"), function="arabic_fold", output_field=models.TextField()),
        output_field=models.TextField(),
        db_persist=True,
    )

    objects = VictimQuerySet.as_manager()

    class Meta:
        ordering = ["incident_id", "id"]
        verbose_name = _("victim")
        verbose_name_plural = _("victims")
        constraints = [
            models.CheckConstraint(
                condition=Q(age_years__isnull=True) | Q(age_years__gte=0, age_years__lte=MAX_AGE),
                name="victim_age_range",
            ),
            models.CheckConstraint(
                condition=Q(age_years__isnull=True)
                | Q(age_years__lt=ADULT_AGE, age_group=AgeGroup.CHILD)
                | Q(age_years__gte=ADULT_AGE, age_group=AgeGroup.ADULT),
                name="victim_age_group_matches_age",
            ),
            models.CheckConstraint(
                condition=Q(date_of_death__isnull=True) | Q(date_of_death__gte=EARLIEST_DATE),
                name="victim_death_date_plausible",
            ),
            models.CheckConstraint(condition=~Q(duplicate_of=models.F("pk")), name="victim_not_own_duplicate"),
            models.CheckConstraint(
                condition=Q(date_of_birth__isnull=True) | Q(date_of_birth__gte=EARLIEST_DATE),
                name="victim_birth_date_plausible",
            ),
            models.UniqueConstraint(
                fields=["origin_source", "origin_record_id"],
                condition=~Q(origin_source=""),
                name="victim_unique_origin",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "civilian_status"], name="victim_status_civ"),
            models.Index(fields=["incident", "status"], name="victim_incident_status"),
            review_queue_index("victim"),
            # The counted victims (rules 1-3) with every column a count reads: counts scan this small
            # index (index-only) instead of the table, and reach an incident's counted victims by
            # incident (bench/README.md: 12.5 s -> 4.7 s for a full count at a million victims).
            models.Index(
                fields=["incident"],
                include=[
                    "id",
                    "version",
                    "category",
                    "date_of_death",
                    "place_of_death",
                    "role_civil_defense",
                    "role_medical",
                    "role_media",
                    "role_humanitarian",
                    "role_education",
                    "role_other",
                ],
                condition=Q(status="verified", civilian_status="civilian", duplicate_of__isnull=True),
                name="victim_counted",
            ),
            # Victims with their own date of death (a few percent): found by date for windows.
            models.Index(fields=["date_of_death"], condition=Q(date_of_death__isnull=False), name="victim_death_date"),
        ]

    LABEL_FIELDS = ("name", "name_ar")  # what __str__ reads (see Incident.LABEL_FIELDS)

    def __str__(self) -> str:
        return self.label_of(self.pk, self.name, self.name_ar)

    @staticmethod
    def label_of(pk: int, name: str, name_ar: str) -> str:
        return name or name_ar or f"#{pk}"

    @property
    def roles(self) -> list[str]:
        return [role for role, field in self.ROLE_FIELDS.items() if getattr(self, field)]
