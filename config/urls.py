from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import api as accounts_api
from counts import api as counts_api
from evidence import api as evidence_api
from incidents import api as incidents_api
from intake import api as intake_api
from matching import api as matching_api

from .api import router
from .health import healthz

router.register("locations", incidents_api.LocationViewSet, basename="location")
router.register("perpetrators", incidents_api.PerpetratorViewSet, basename="perpetrator")
router.register("periods", incidents_api.ReportingPeriodViewSet, basename="period")
router.register("incidents", incidents_api.IncidentViewSet, basename="incident")
router.register("victims", incidents_api.VictimViewSet, basename="victim")
router.register("counts", counts_api.CountSnapshotViewSet, basename="count")
router.register("public/counts", counts_api.PublicCountSnapshotViewSet, basename="public-count")
router.register("witnesses", evidence_api.WitnessViewSet, basename="witness")
router.register("testimonies", evidence_api.TestimonyViewSet, basename="testimony")
router.register("media", evidence_api.MediaItemViewSet, basename="media")
router.register("sources", evidence_api.SourceViewSet, basename="source")
router.register("imports", intake_api.ImportViewSet, basename="import")
# --- duplicate scans (matching-engine) ---
router.register("duplicates/scans", matching_api.ScanViewSet, basename="duplicate-scan")
# --- end duplicate scans ---
# --- matching-review: candidate pairs ---
router.register("duplicates", matching_api.CandidatePairViewSet, basename="duplicate")
# --- end matching-review ---


def _tried_first(patterns: list, prefix: str) -> list:
    """The router's patterns with those for `prefix` tried first, in their own order. Every router pattern
    starts with its own literal prefix (`^incidents/`, `^duplicates/`, ...), so no other pattern matches
    a path of these and which view answers a path is unchanged; only the patterns Django's resolver tries
    (and records as tried) before the duplicates list's, the router's last, are spared (~45 µs a request)."""
    first = [pattern for pattern in patterns if str(pattern.pattern).startswith(f"^{prefix}")]
    return first + [pattern for pattern in patterns if pattern not in first]


api_urlpatterns = [
    path("auth/token/", accounts_api.ObtainTokenView.as_view(), name="api-token"),
    path("auth/logout/", accounts_api.RevokeTokenView.as_view(), name="api-logout"),
    path("review-queue/", incidents_api.ReviewQueueView.as_view(), name="review-queue"),
    path("review/bulk/", incidents_api.BulkReviewView.as_view(), name="review-bulk"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path(
        "counts/<int:pk>/victims.csv",
        counts_api.CountedVictimsCSVView.as_view(),
        name="count-victims-csv",
    ),
    # --- matching-review: unmerge a victim (in matching: incidents never imports matching) ---
    path("victims/<int:pk>/unmerge/", matching_api.UnmergeView.as_view(), name="victim-unmerge"),
    # --- end matching-review ---
    # --- duplicate scans (matching-engine) ---
    path("duplicates/scan/", matching_api.StartScanView.as_view(), name="duplicate-scan-start"),
    # --- end duplicate scans ---
    path("", include(_tried_first(router.urls, "duplicates"))),
]

urlpatterns = [
    path("api/v1/", include(api_urlpatterns)),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("", RedirectView.as_view(pattern_name="home", permanent=False)),
]

urlpatterns += i18n_patterns(
    path("", include("incidents.urls")),
    path("", include("evidence.urls")),
    path("", include("counts.urls")),
    path("", include("intake.urls")),
    path("", include("notices.urls")),
    path("", include("matching.urls")),  # matching-review: the duplicates pages
    path("accounts/", include("django.contrib.auth.urls")),
    path("account/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    prefix_default_language=True,
)
