from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import enrolment
from .models import SecondFactorToken


@admin.register(SecondFactorToken)
class SecondFactorTokenAdmin(admin.ModelAdmin):
    list_display = ["token", "device_id", "verified_at"]
    readonly_fields = ["token", "device_id", "verified_at"]


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class AccountUserAdmin(UserAdmin):
    """Django's user admin, plus the one-time second-factor enrolment link (accounts.enrolment)."""

    actions = ["issue_enrolment_link"]

    @admin.action(description=gettext_lazy("Issue a second-factor enrolment link"), permissions=["change"])
    def issue_enrolment_link(self, request: HttpRequest, queryset) -> None:
        for user in queryset.filter(is_active=True):
            link = request.build_absolute_uri(enrolment.issue_link(actor=request.user, user=user))
            self.message_user(
                request,
                _(
                    "Enrolment link for %(username)s (works once, send it by another channel than the password): "
                    "%(link)s"
                )
                % {"username": user.get_username(), "link": link},
                messages.SUCCESS,
            )
