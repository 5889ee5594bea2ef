"""Who may do what, by permission (the groups documenter, reviewer and admin hold them).

Checked on every request against the database, so removing a role or deactivating a user takes
effect on the next request.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

DOCUMENT = "incidents.add_incident"
REVIEW = "incidents.review_record"
MANAGE_COUNTS = "incidents.manage_counts"

UserLike = AbstractBaseUser | AnonymousUser | None


def _active(user: UserLike) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def can_document(user: UserLike) -> bool:
    return _active(user) and user.has_perm(DOCUMENT)


def can_review(user: UserLike) -> bool:
    return _active(user) and user.has_perm(REVIEW)


def can_manage_counts(user: UserLike) -> bool:
    return _active(user) and user.has_perm(MANAGE_COUNTS)


def require_documenter(user: UserLike, message: str | None = None) -> None:
    """403 unless `user` documents; the message says who may (the default, or the caller's own)."""
    if not can_document(user):
        raise PermissionDenied(message or _("Only documenters may record incidents and victims."))


def require_reviewer(user: UserLike, message: str | None = None) -> None:
    """403 unless `user` reviews (reviewers and admins)."""
    if not can_review(user):
        raise PermissionDenied(message or _("Only reviewers and admins may do this."))


def is_staff_member(user: UserLike) -> bool:
    """Any signed-in user holding a role (reads reference data)."""
    return can_document(user) or can_review(user) or can_manage_counts(user)


def require_staff_member(user: UserLike, message: str | None = None) -> None:
    """403 unless `user` holds a role; the message says what only they may do (the caller's own, or the default)."""
    if not is_staff_member(user):
        raise PermissionDenied(message or _("Only documenters, reviewers and admins may do this."))


def may_see_personal_data(user: UserLike, victim: object) -> bool:
    """A victim's identity number and date of birth: the record's author, reviewers and admins."""
    return personal_data_rule(user)(getattr(victim, "created_by_id", None))


def personal_data_rule(user: UserLike) -> Callable[[int | None], bool]:
    """`may_see_personal_data` for `user` as a test of a record's author id: the user's roles read once
    (a page of 50 victims, or 100 in a page of pairs, asks it for each row)."""
    if not _active(user):
        return lambda author_id: False
    if can_review(user) or can_manage_counts(user):
        return lambda author_id: True
    pk = user.pk
    return lambda author_id: author_id == pk
