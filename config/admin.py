"""The Django admin, open to the admin group (vocabularies: places, parties, periods).

Django's default site admits only `is_staff` users; here holding the admin role (the
`incidents.manage_counts` permission) is enough too. What each user may change inside is still
decided by their model permissions, so documenters and reviewers see nothing to edit.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from incidents import roles


def may_use_admin(user) -> bool:
    return bool(user and user.is_active and (user.is_staff or roles.can_manage_counts(user)))


class RoleAwareAuthenticationForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user) -> None:
        if not may_use_admin(user):
            raise forms.ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class SiteAdmin(admin.AdminSite):
    site_header = _("Casualty Records administration")
    site_title = _("Casualty Records")
    index_title = _("Vocabularies and records")
    login_form = RoleAwareAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return may_use_admin(request.user)
