"""Page addresses (under the /en/ and /ar/ prefixes) for incidents, victims and review."""

from django.urls import path

from . import list_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("incidents/new/", views.incident_new, name="incident-new"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident-detail"),
    path("incidents/<int:pk>/submit/", views.incident_submit, name="incident-submit"),
    path("incidents/<int:pk>/delete/", views.incident_delete, name="incident-delete"),
    path("incidents/<int:pk>/victims/", views.victim_add, name="victim-add"),
    path("victims/<int:pk>/", views.victim_edit, name="victim-edit"),
    path("victims/<int:pk>/delete/", views.victim_delete, name="victim-delete"),
    path("incidents/", list_views.incidents, name="incident-list"),
    path("victims/", list_views.victims, name="victim-list"),
    path("review/", list_views.review_queue, name="review-queue"),
    path("review/bulk/", list_views.review_bulk, name="review-bulk"),
    path("review/<str:kind>/<int:pk>/", views.review_record, name="review-record"),
    path("review/<str:kind>/<int:pk>/reopen/", views.reopen_record, name="review-reopen"),
]
