"""Page addresses (under the /en/ and /ar/ prefixes) of the duplicates review."""

from django.urls import path

from . import views

urlpatterns = [
    path("duplicates/", views.queue, name="duplicates-queue"),
    path("duplicates/<int:pk>/", views.pair_page, name="duplicates-pair"),
    path("duplicates/<int:pk>/decide/", views.decide, name="duplicates-decide"),
    path("duplicates/records/<int:pk>/", views.group, name="duplicates-group"),
    path("duplicates/records/<int:pk>/unmerge/", views.unmerge, name="duplicates-unmerge"),
    path("duplicates/scan/", views.scan, name="duplicates-scan"),
    path("duplicates/scans/<int:pk>/", views.scan_progress, name="duplicates-scan-progress"),
]
