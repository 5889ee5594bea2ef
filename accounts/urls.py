from django.urls import path

from . import views

urlpatterns = [
    path("two-factor/enrol/", views.enrol, name="otp-enrol"),
    path("two-factor/enrol/<str:token>/", views.enrol_with_link, name="otp-enrol-link"),
    path("two-factor/verify/", views.verify, name="otp-verify"),
]
