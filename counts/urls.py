"""Page addresses (under the /en/ and /ar/ prefixes) for the count pages and the public figures."""

from django.urls import path

from . import views

urlpatterns = [
    path("counts/", views.counts, name="counts"),
    path("counts/<int:pk>/", views.count_detail, name="count-detail"),
    path("counts/<int:pk>/status/", views.count_status, name="count-status"),
    path("counts/<int:pk>/publish/", views.count_publish, name="count-publish"),
    path("counts/<int:pk>/export/<str:export_format>/", views.count_export, name="count-export"),
    path("figures/", views.public, name="public"),
    path("figures/<int:pk>/", views.public, name="public-count"),
]
