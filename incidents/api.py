"""HTTP API for reference data, incidents and victims: fetch visible rows, call a service, serialise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import CharField, F, TextField, Value
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.auth import SECOND_FACTOR_HEADER
from accounts.idempotency import IdempotentCreateMixin
from config.api import EstimatingPaginator, Pagination
from config.compiled import CompiledList, compiled_list, list_key
from config.shaping import RowShaper, ShapedListMixin, datetime_writer, fast_lists_enabled, fast_renderers

from . import reference, roles, services, workflow
from .filters import IncidentFilter, VictimFilter
from .models import Incident, Location, Perpetrator, ReportingPeriod, Victim
from .serializers import (
    IncidentSerializer,
    LocationSerializer,
    PerpetratorSerializer,
    ReportingPeriodSerializer,
    VictimSerializer,
    personal_data_hider,
)


class ReferenceDataPermission(permissions.BasePermission):
    """Read: any signed-in user with a role. Write: holders of the model's add/change/delete permission."""

    message = _("Only admins may change reference data.")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if request.method in permissions.SAFE_METHODS:
            return roles.is_staff_member(user)
        verb = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}.get(request.method)
        return bool(verb and reference.may_write(user, view.queryset.model, verb))


class HasRole(permissions.BasePermission):
    """Records under review are for users holding a role; everybody else sees published figures only."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return roles.is_staff_member(request.user)


class ReviewSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=workflow.DECISIONS)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    victims = serializers.DictField(
        child=serializers.ChoiceField(choices=["approve", "reject"]), required=False, allow_empty=True
    )

    evidence = serializers.DictField(
        child=serializers.DictField(child=serializers.ChoiceField(choices=["approve", "reject"]), allow_empty=True),
        required=False,
        allow_empty=True,
        help_text='For an incident: {"sources" | "testimonies" | "media": {"<id>": "approve" | "reject"}}, decided '
        "before the incident (so approved evidence counts towards its evidence minimum); all or nothing.",
    )

    def validate_victims(self, value: dict[str, str]) -> dict[int, str]:
        try:
            return {int(key): decision for key, decision in value.items()}
        except ValueError:
            raise serializers.ValidationError(_("Victim ids are integers.")) from None

    def validate_evidence(self, value: dict[str, dict[str, str]]) -> dict[str, dict[int, str]]:
        unknown = sorted(set(value) - set(workflow.evidence_kinds()))
        if unknown:
            raise serializers.ValidationError(_("Unknown evidence kinds: %(kinds)s.") % {"kinds": ", ".join(unknown)})
        try:
            return {
                kind: {_positive_id(key): decision for key, decision in decisions.items()}
                for kind, decisions in value.items()
            }
        except ValueError:
            raise serializers.ValidationError(_("Evidence ids are whole numbers.")) from None


def _positive_id(value: Any) -> int:
    number = int(str(value))
    if not 0 < number <= 2**63 - 1:
        raise ValueError(value)
    return number


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class AuditEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField(source="occurred_at")
    actor = serializers.CharField(source="actor_name")
    action = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    comment = serializers.CharField()


class WorkflowActionsMixin:
    """`submit/`, `review/`, `reopen/` and `history/` for a viewset of a reviewable kind."""

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        record = workflow.submit(request.user, self.get_object())
        return Response(self.get_serializer(record).data)

    @extend_schema(request=ReviewSerializer, parameters=[SECOND_FACTOR_HEADER])
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        record = self.get_object()
        decision = ReviewSerializer(data=request.data)
        decision.is_valid(raise_exception=True)
        record = workflow.review(
            request.user,
            record,
            decision.validated_data["decision"],
            decision.validated_data["comment"],
            decision.validated_data.get("victims"),
            decision.validated_data.get("evidence"),
        )
        return Response(self.get_serializer(record).data)

    @extend_schema(request=ReopenSerializer, parameters=[SECOND_FACTOR_HEADER])
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, pk: str | None = None) -> Response:
        record = self.get_object()
        body = ReopenSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reason = body.validated_data["reason"] or body.validated_data["comment"]
        record = workflow.reopen(request.user, record, reason)
        return Response(self.get_serializer(record).data)

    @extend_schema(request=None, responses=AuditEntrySerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        entries = workflow.history(self.get_object())
        return Response(AuditEntrySerializer(entries, many=True).data)


class ReferenceViewSet(viewsets.ModelViewSet):
    """Places, parties and periods: every write is a call to reference.py (checked, audited)."""

    permission_classes = [ReferenceDataPermission]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = reference.create(
            actor=self.request.user, model=self.queryset.model, **serializer.validated_data
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = reference.change(
            actor=self.request.user, row=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Any) -> None:
        reference.delete(actor=self.request.user, row=instance)


class LocationViewSet(ReferenceViewSet):
    queryset = Location.objects.all().order_by("id")
    serializer_class = LocationSerializer
    filterset_fields = ["level", "parent"]


class PerpetratorViewSet(ReferenceViewSet):
    queryset = Perpetrator.objects.all().order_by("id")
    serializer_class = PerpetratorSerializer
    filterset_fields = ["parent"]


class ReportingPeriodViewSet(ReferenceViewSet):
    queryset = ReportingPeriod.objects.all()
    serializer_class = ReportingPeriodSerializer


# The lists' rows, shaped as the serializers shape them without their per-field work (config/shaping.py).
INCIDENT_ROWS = RowShaper(IncidentSerializer)
VICTIM_ROWS = RowShaper(
    VictimSerializer,
    computed=("roles", "origin"),
    extra_columns=(*Victim.ROLE_FIELDS.values(), "origin_source", "origin_record_id", "created_by_id"),
)


def victim_row_finisher(user: Any, prefix: str = ""):
    """VictimSerializer.to_representation's own part: roles, origin, personal data for those who may.
    `prefix`: the rows name the victim's columns `<prefix><column>` (as `VICTIM_ROWS.shape(prefix=)`)."""
    role_columns = [(role, f"{prefix}{column}") for role, column in Victim.ROLE_FIELDS.items()]
    source_column, record_column = f"{prefix}origin_source", f"{prefix}origin_record_id"
    author_column = f"{prefix}created_by_id"
    hide = personal_data_hider(user)

    def finish(row: dict[str, Any], data: dict[str, Any]) -> None:
        data["roles"] = [role for role, column in role_columns if row[column]]
        source = row[source_column]
        data["origin"] = {"source": source, "record_id": row[record_column]} if source else None
        hide(data, row[author_column])

    return finish


class IncidentViewSet(ShapedListMixin, IdempotentCreateMixin, WorkflowActionsMixin, viewsets.ModelViewSet):
    queryset = Incident.objects.all()
    serializer_class = IncidentSerializer
    permission_classes = [HasRole]
    filterset_class = IncidentFilter

    def row_shaper(self) -> RowShaper:
        return INCIDENT_ROWS

    def get_queryset(self):
        return Incident.objects.visible_to(self.request.user).order_by("-occurred_on", "-id")

    def perform_create(self, serializer: IncidentSerializer) -> None:
        serializer.instance = services.create_incident(author=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: IncidentSerializer) -> None:
        serializer.instance = services.update_incident(
            actor=self.request.user, incident=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Incident) -> None:
        services.delete_incident(actor=self.request.user, incident=instance)


class VictimViewSet(ShapedListMixin, IdempotentCreateMixin, WorkflowActionsMixin, viewsets.ModelViewSet):
    queryset = Victim.objects.all()
    serializer_class = VictimSerializer
    permission_classes = [HasRole]
    filterset_class = VictimFilter

    def row_shaper(self) -> RowShaper:
        return VICTIM_ROWS

    def row_finisher(self):
        return victim_row_finisher(self.request.user)

    def get_queryset(self):
        return Victim.objects.visible_to(self.request.user).order_by("incident_id", "id")

    def get_serializer(self, *args: Any, **kwargs: Any) -> VictimSerializer:
        serializer = super().get_serializer(*args, **kwargs)
        # Only incidents the user may see can be named: an invisible one reads as "does not exist".
        if isinstance(serializer, VictimSerializer) and "incident" in serializer.fields:
            serializer.fields["incident"].queryset = Incident.objects.visible_to(self.request.user)
        return serializer

    def perform_create(self, serializer: VictimSerializer) -> None:
        fields = dict(serializer.validated_data)
        incident = fields.pop("incident")
        serializer.instance = services.create_victim(author=self.request.user, incident=incident, **fields)

    def perform_update(self, serializer: VictimSerializer) -> None:
        serializer.instance = services.update_victim(
            actor=self.request.user, victim=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance: Victim) -> None:
        services.delete_victim(actor=self.request.user, victim=instance)


class QueueItemSerializer(serializers.Serializer):
    kind = serializers.CharField()
    id = serializers.IntegerField()
    label = serializers.CharField()
    status = serializers.CharField()
    created_by = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    incident = serializers.IntegerField()


QUEUE_TIME = QueueItemSerializer().fields["submitted_at"]


class QueuePaginator(EstimatingPaginator):
    """Reads a page of the review queue as the union of each kind's first rows in queue order.

    A union ordered as a whole is sorted after every submitted record of every kind is read
    (PostgreSQL does not carry the outer order into the branches: 0.6-1 s at a million victims).
    Each branch ordered and limited to the page's end instead reads its rows from its partial index
    on submitted records (`<kind>_review_queue`) and stops there; the page is the first rows of their
    union in the queue's order, the same rows (a kind's share of a page is its first rows by
    `updated_at, pk`, the queue's order within one kind). The count, the probe and the estimate still
    read the whole union. Databases that cannot order inside a union (SQLite) read the whole union."""

    parts: list = []

    def fetch(self, start: int, stop: int) -> Any:
        if isinstance(self.object_list, CompiledList):  # compiled from queue_page below
            return super().fetch(start, stop)
        return queue_page(self.object_list, self.parts)(start, stop)


def queue_page(rows: Any, parts: list) -> Callable[[int, int], Any]:
    """The queryset of the queue's rows `start` to `stop` (QueuePaginator: each branch to the page's end)."""

    def page(start: int, stop: int) -> Any:
        if not parts or not connections[parts[0].db].features.supports_slicing_ordering_in_compound:
            return rows[start:stop]
        if len(parts) == 1:  # one kind: its own order is the queue's
            return parts[0].order_by("updated_at", "pk")[start:stop]
        heads = [part.order_by("updated_at", "pk")[:stop] for part in parts]
        return heads[0].union(*heads[1:], all=True).order_by("updated_at", "queue_kind", "pk")[start:stop]

    return page


class QueuePagination(Pagination):
    paginator_class = QueuePaginator

    def __init__(self, parts: list) -> None:
        super().__init__()
        self.parts = parts

    def django_paginator_class(self, *args: Any, **kwargs: Any) -> QueuePaginator:  # type: ignore[override]
        paginator = super().django_paginator_class(*args, **kwargs)
        paginator.parts = self.parts
        return paginator


class ReviewQueueView(APIView):
    """Submitted records awaiting a decision, oldest first. Filters: `kind`, `location`, `perpetrator`."""

    permission_classes = [HasRole]
    renderer_classes = fast_renderers()

    @extend_schema(responses=QueueItemSerializer(many=True))
    def get(self, request: Request) -> Response:
        built: dict[str, list] = {}

        def build() -> tuple[Any, Callable[[int, int], Any]]:
            kinds = [k.strip() for k in request.query_params.get("kind", "").split(",") if k.strip()] or None
            unknown = sorted(set(kinds or []) - set(workflow.KINDS))
            if unknown:
                raise serializers.ValidationError(
                    {"kind": [_("Unknown kind: %(kinds)s.") % {"kinds": ", ".join(unknown)}]}
                )
            location_ids = _id_list(request.query_params, "location")
            perpetrator_ids = _id_list(request.query_params, "perpetrator")
            places = Location.objects.subtree_ids(location_ids) if location_ids else None
            parties = Perpetrator.objects.subtree_ids(perpetrator_ids) if perpetrator_ids else None
            # One UNION over the kinds, ordered and paged by the database: every submitted record counts.
            # Each row carries what its label is made of (the model's LABEL_FIELDS, as text), so the page
            # needs no further statement per kind.
            queue = workflow.review_queue(request.user, kinds)
            width = max((len(getattr(kind.model, "LABEL_FIELDS", ())) for kind, _queryset in queue), default=0)
            parts = []
            for kind, queryset in queue:
                prefix = f"{kind.incident_path}__" if kind.incident_path else ""
                if places is not None:
                    queryset = queryset.filter(**{f"{prefix}location_id__in": places})
                if parties is not None:
                    queryset = queryset.filter(**{f"{prefix}perpetrator_id__in": parties})
                incident_field = f"{kind.incident_path}_id" if kind.incident_path else "pk"
                label_fields = getattr(kind.model, "LABEL_FIELDS", ())
                labels = {
                    f"queue_label_{n}": Cast(label_fields[n], TextField())
                    if n < len(label_fields)
                    else Value("", TextField())
                    for n in range(width)
                }
                parts.append(
                    queryset.order_by()
                    .annotate(
                        queue_kind=Value(kind.name, output_field=CharField()),
                        queue_incident=F(incident_field),
                        **labels,
                    )
                    .values_list("updated_at", "queue_kind", "pk", "status", "created_by_id", "queue_incident", *labels)
                )
            if not parts:
                rows = Incident.objects.none().values_list("pk")
            else:
                rows = parts[0].union(*parts[1:], all=True).order_by("updated_at", "queue_kind", "pk")
            built["parts"] = parts
            return rows, queue_page(rows, parts)

        # The queue's SQL kept per filter signature (config/compiled.py): a warm page builds nothing.
        compiled, rows = compiled_list(list_key(request, "review-queue", uncacheable=frozenset()), build)
        if compiled is not None:
            rows = compiled
        paginator = QueuePagination(built.get("parts", []))
        found = paginator.paginate_queryset(rows, request, view=self)
        page = [
            {
                "kind": row[1],
                "id": row[2],
                "label": queue_label(row[1], row[2], row[6:]),
                "status": row[3],
                "created_by": row[4],
                "submitted_at": row[0],
                "incident": row[5],
            }
            for row in found
        ]
        if not fast_lists_enabled():
            return paginator.get_paginated_response(QueueItemSerializer(page, many=True).data)
        # QueueItemSerializer's output without its per-field work: only the time needs formatting.
        when = datetime_writer(QUEUE_TIME)
        for item in page:
            item["submitted_at"] = when(item["submitted_at"]) if item["submitted_at"] is not None else None
            item["label"] = str(item["label"])
        return paginator.get_paginated_response(page)


def queue_label(kind: str, pk: int, parts: tuple) -> str:
    """A queue row's label: str() of its record, from the LABEL_FIELDS its row carries (as text)."""
    model = workflow.KINDS[kind].model
    label_fields = getattr(model, "LABEL_FIELDS", None)
    if label_fields is None:  # a kind that does not say what its label reads: its record, looked up
        record = model.objects.filter(pk=pk).first()
        return str(record) if record is not None else ""
    return model.label_of(pk, *parts[: len(label_fields)])


def _id_list(params: Any, name: str) -> list[int]:
    """`?location=5` or `?location=5,7`; anything but integers is a 400 naming the parameter."""
    parts = [part.strip() for part in (params.get(name) or "").split(",") if part.strip()]
    if not all(part.isascii() and part.isdigit() for part in parts):
        raise serializers.ValidationError({name: [_("Give ids as whole numbers separated by commas.")]})
    return [int(part) for part in parts]


class BulkReviewSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["incidents", "victims", "testimonies", "media", "sources"])
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=workflow.MAX_BULK,
    )
    decision = serializers.ChoiceField(choices=workflow.DECISIONS)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)


class BulkReviewView(APIView):
    """One decision for many records of one kind: each id is its own transition with every check of
    `review/` (four eyes, compare-and-set, audit entry); one id's refusal does not stop the others.
    200 with `{"results": {"<id>": "ok" | code}}`; the codes are workflow.BULK_CODES (docs/using-the-site.md)."""

    permission_classes = [HasRole]

    @extend_schema(
        request=BulkReviewSerializer,
        parameters=[SECOND_FACTOR_HEADER],
        responses=inline_serializer(
            "BulkReviewResults", {"results": serializers.DictField(child=serializers.CharField())}
        ),
    )
    def post(self, request: Request) -> Response:
        body = BulkReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = workflow.review_many(
            request.user,
            body.validated_data["kind"],
            body.validated_data["ids"],
            body.validated_data["decision"],
            body.validated_data["comment"],
        )
        return Response({"results": results})
