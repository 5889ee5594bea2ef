"""Evidence pages, under the /en/ and /ar/ prefixes next to the incident pages."""

from django.urls import path

from . import list_views, views

urlpatterns = [
    path("evidence/incidents/<int:pk>/", views.incident_evidence, name="incident-evidence"),
    path("incidents/<int:pk>/testimony/", views.testimony_new, name="testimony-new"),
    path("incidents/<int:pk>/media/", views.media_upload, name="media-upload"),
    path("incidents/<int:pk>/sources/new/", views.source_new, name="source-new"),
    path("sources/<int:pk>/", views.source_edit, name="source-edit"),
    path("sources/<int:pk>/delete/", views.source_delete, name="source-delete"),
    path("testimonies/<int:pk>/", views.testimony_edit, name="testimony-edit"),
    path("media/<int:pk>/", views.media_edit, name="media-edit"),
    path("media/<int:pk>/custody/", views.media_custody, name="media-custody"),
    path("witnesses/<int:pk>/", views.witness_edit, name="witness-edit"),
    path("records/<str:kind>/<int:pk>/submit/", views.record_submit, name="record-submit"),
    path("evidence/", list_views.evidence_list, name="evidence-list"),
]
