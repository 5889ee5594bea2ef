"""Import pages, under the /en/ and /ar/ prefixes."""

from django.urls import path

from . import views

urlpatterns = [
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.import_page, name="import-page"),
    path("imports/<int:pk>/progress/", views.import_progress, name="import-progress"),
    path("imports/<int:pk>/import/", views.import_carry_out, name="import-carry-out"),
    path("imports/<int:pk>/run-again/", views.import_run_again, name="import-run-again"),
]
