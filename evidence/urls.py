"""Evidence pages, under the /en/ and /ar/ prefixes next to the incident pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("evidence/incidents/<int:pk>/", views.incident_evidence, name="incident-evidence"),
    path("incidents/<int:pk>/testimony/", views.testimony_new, name="testimony-new"),
    path("incidents/<int:pk>/media/", views.media_upload, name="media-upload"),
]
