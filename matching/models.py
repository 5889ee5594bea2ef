"""What the duplicates feature stores: a scan (one run of the matcher) and the candidate pairs it found.

The matcher itself (normalising names, blocking, scoring) lives in engine.py; running a scan in scans.py;
the rules about deciding a pair (four eyes, compare-and-set, groups of one person, unmerge) in services.py.
`matching` imports `incidents`, never the reverse: a confirmed pair is recorded on the victim as
`duplicate_of`, which the counting rule already honours.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class DuplicateScan(models.Model):
    """One run of the matcher: `pending` → `running` → `done` or `failed`. At most one runs at a time."""

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("scan", "Waiting")
        RUNNING = "running", pgettext_lazy("scan", "Running")
        DONE = "done", pgettext_lazy("scan", "Done")
        FAILED = "failed", pgettext_lazy("scan", "Failed")

    status = models.CharField(_("status"), max_length=8, choices=State.choices, default=State.PENDING, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # An incremental scan compares only the victims added or changed since the last finished scan started
    # (against all victims); a full one compares every victim.
    incremental = models.BooleanField(default=False)
    # Progress: victims read (features computed) out of the victims to read, then pairs scored.
    stage = models.CharField(max_length=16, blank=True, default="")
    progress_done = models.PositiveBigIntegerField(default=0)
    progress_total = models.PositiveBigIntegerField(default=0)
    # Summary (API.md): victims considered, pairs compared after blocking, new candidates stored.
    victims = models.PositiveBigIntegerField(default=0)
    pairs_compared = models.PositiveBigIntegerField(default=0)
    candidates = models.PositiveBigIntegerField(default=0)
    # The threshold at or above which a pair is "likely", and the engine that scored (name and version).
    threshold = models.FloatField(null=True, blank=True)
    engine = models.CharField(max_length=100, blank=True, default="")
    # A failed scan says why, in words fit for a reviewer (never personal data).
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Never two scans pending or running at once (the 409 of API.md has the database behind it).
            models.UniqueConstraint(
                fields=["status"], condition=Q(status__in=["pending", "running"]), name="one_unfinished_scan"
            ),
        ]

    def __str__(self) -> str:
        return f"scan #{self.pk} ({self.status})"

    @property
    def summary(self) -> dict[str, int]:
        return {"victims": self.victims, "pairs_compared": self.pairs_compared, "candidates": self.candidates}

    @property
    def progress(self) -> dict[str, int]:
        return {"done": self.progress_done, "total": self.progress_total}


class CandidatePairQuerySet(models.QuerySet):
    def open(self) -> CandidatePairQuerySet:
        return self.filter(status=CandidatePair.State.CANDIDATE)


class CandidatePair(models.Model):
    """Two victim records the matcher thinks may be one person, and what a reviewer decided.

    Stored once per pair, the lower id as `victim_a`. A re-run of a scan refreshes the score of an
    undecided pair and never touches a decided one. `version` is the compare-and-set token of decisions.
    """

    class State(models.TextChoices):
        CANDIDATE = "candidate", pgettext_lazy("duplicate pair", "Candidate")
        CONFIRMED = "confirmed", pgettext_lazy("duplicate pair", "Confirmed")
        DISMISSED = "dismissed", pgettext_lazy("duplicate pair", "Dismissed")

    victim_a = models.ForeignKey("incidents.Victim", on_delete=models.CASCADE, related_name="+")
    victim_b = models.ForeignKey("incidents.Victim", on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("score"))
    likely = models.BooleanField(_("likely"), default=False)
    # What matched and what differed: a list of {"code": ..., "params": {...}} rendered in words (EN/AR)
    # by reasons.py, so the stored pair never holds sentences in one language (nor identity numbers).
    reasons = models.JSONField(default=list, blank=True)
    status = models.CharField(_("status"), max_length=9, choices=State.choices, default=State.CANDIDATE, db_index=True)
    kept = models.ForeignKey("incidents.Victim", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True, default="")
    version = models.PositiveIntegerField(default=1)
    found_by = models.ForeignKey(DuplicateScan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CandidatePairQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["victim_a", "victim_b"], name="candidate_pair_once"),
            models.CheckConstraint(condition=Q(victim_a__lt=F("victim_b")), name="candidate_pair_ordered"),
        ]
        indexes = [
            models.Index(fields=["status", "-score", "id"], name="candidate_queue"),
            # The list without a status filter (`/api/v1/duplicates/`) in its order: a page reads 50 rows
            # from the index instead of sorting every pair (bench/README.md, the duplicates list).
            models.Index(fields=["-score", "id"], name="candidate_list"),
            models.Index(fields=["victim_b"], name="candidate_victim_b"),
        ]

    def __str__(self) -> str:
        return f"pair #{self.pk}: {self.victim_a_id} ~ {self.victim_b_id} ({self.score:.3f})"


class VictimFeatures(models.Model):
    """The matcher's name features of one victim, computed once per victim version (a cache, never a source).

    engine.NAME_FEATURES (folded name, parts, consonant and loose keys, the blocking keys' parts), written by
    `scans.refresh_features` for the victims that have none, whose record changed since (`victim_version`
    behind the victim's `version`, or names other than the victim's) or whose features came from an older
    normaliser (`names_version`). A scan
    then reads these columns instead of folding every name again. Identity numbers and dates of birth are
    never stored here: they are read from the victim by the scan that compares them."""

    victim = models.OneToOneField(
        "incidents.Victim", on_delete=models.CASCADE, primary_key=True, related_name="match_features"
    )
    victim_version = models.PositiveIntegerField()
    names_version = models.PositiveSmallIntegerField()
    # The names the features were folded from: a row whose names differ from the victim's is stale even when
    # the version says otherwise (a write that did not bump it), and the scan folds the names again.
    name = models.TextField(null=True)
    name_ar = models.TextField(null=True)
    ar = models.TextField(null=True)
    ar_ns = models.TextField(null=True)
    g = models.TextField(null=True)
    f = models.TextField(null=True)
    gf = models.TextField(null=True)
    fam = models.TextField(null=True)
    lat_name = models.TextField(null=True)
    loose = models.TextField(null=True)
    sk = models.TextField(null=True)
    sk_ns = models.TextField(null=True)
    sk_g = models.TextField(null=True)
    sk_f = models.TextField(null=True)
    sk_gf = models.TextField(null=True)
    sk_fam = models.TextField(null=True)
    sk_ar = models.TextField(null=True)
    sk_lat = models.TextField(null=True)
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"features of victim #{self.victim_id} v{self.victim_version}"
