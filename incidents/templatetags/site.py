from __future__ import annotations

from django import template
from django.urls import translate_url

register = template.Library()


@register.simple_tag(takes_context=True)
def language_url(context: template.Context, language: str) -> str:
    """The current page's address in another language (/en/... ↔ /ar/...)."""
    request = context.get("request")
    path = request.get_full_path() if request else "/"
    return translate_url(path, language)


@register.simple_tag(takes_context=True)
def user_roles(context: template.Context) -> dict[str, bool]:
    """Which parts of the site the signed-in user may use (for the navigation)."""
    from incidents import roles

    user = getattr(context.get("request"), "user", None)
    return {
        "document": roles.can_document(user),
        "review": roles.can_review(user),
        "counts": roles.can_manage_counts(user),
        "staff": roles.is_staff_member(user),
    }


@register.filter
def localized(obj: object, language: str = "") -> str:
    """A place's or party's name in the page's language (Arabic when there is one)."""
    if obj is None:
        return ""
    from django.utils.translation import get_language

    method = getattr(obj, "localized_name", None)
    if method is None:
        return str(obj)
    return method(language or get_language())


@register.filter
def precise_date(incident: object) -> str:
    """An incident's date shown only as exactly as it is known (day, month or year)."""
    from django.utils.dateformat import format as date_format

    value = getattr(incident, "occurred_on", None)
    if value is None:
        return ""
    precision = getattr(incident, "date_precision", "day")
    pattern = {"year": "Y", "month": "F Y"}.get(precision, "j F Y")
    return date_format(value, pattern)


@register.filter
def status_label(value: str) -> str:
    """A review state's label in the page's language."""
    from incidents.models import Status

    try:
        return str(Status(value).label)
    except ValueError:
        return value


@register.filter
def kind_label(value: str) -> str:
    """A reviewable kind's name (incidents, victims, testimonies, media) in the page's language."""
    from incidents.views import KIND_LABELS

    return str(KIND_LABELS.get(value, value))


@register.filter
def category_label(value: str) -> str:
    """A victim's derived category (child, woman, man, unknown) in the page's language."""
    from incidents.models import Category

    try:
        return str(Category(value).label)
    except ValueError:
        return value


@register.simple_tag
def form_token() -> str:
    """A one-time token for a form that creates something: sent twice, it creates once."""
    import uuid

    from django.utils.html import format_html

    return format_html('<input type="hidden" name="form_token" value="{}">', uuid.uuid4().hex)


@register.filter
def victim_name(victim: object) -> str:
    """A victim's name for the page's language: the Arabic name on Arabic pages when it is given."""
    from django.utils.translation import get_language

    name, name_ar = getattr(victim, "name", ""), getattr(victim, "name_ar", "")
    first, second = (name_ar, name) if get_language() == "ar" else (name, name_ar)
    return first or second or f"#{getattr(victim, 'pk', '')}"


@register.filter
def victim_other_name(victim: object) -> str:
    """The victim's name in the other script, when both are given (shown second)."""
    from django.utils.translation import get_language

    name, name_ar = getattr(victim, "name", ""), getattr(victim, "name_ar", "")
    if not (name and name_ar):
        return ""
    return name if get_language() == "ar" else name_ar


@register.filter
def language_name(code: str) -> str:
    """A language code ("ar", "en", "ku") as the language's name in the page's language."""
    from django.utils.translation import gettext

    from incidents.languages import LANGUAGE_NAMES

    name = LANGUAGE_NAMES.get((code or "").lower().split("-")[0])
    return gettext(name) if name else code


@register.filter
def coordinate(value: object, axis: str = "latitude") -> str:
    """A latitude or longitude with a decimal point and its hemisphere (35.930600° N), whatever the locale
    (HTML: the number isolated left to right)."""
    from decimal import Decimal, InvalidOperation

    from django.utils.translation import gettext

    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ""
    if axis == "latitude":
        hemisphere = gettext("N") if number >= 0 else gettext("S")
    else:
        hemisphere = gettext("E") if number >= 0 else gettext("W")
    from django.utils.html import format_html

    # The number reads left to right in any page; the hemisphere is a word of the page's language.
    return format_html('<bdi dir="ltr">{}°</bdi> {}', f"{abs(number):.6f}", hemisphere)


@register.simple_tag(takes_context=True)
def unread_notices(context: template.Context) -> int:
    """How many notices the signed-in user has not seen (0 when notices are not installed)."""
    from django.apps import apps

    user = getattr(context.get("request"), "user", None)
    if user is None or not user.is_authenticated or not apps.is_installed("notices"):
        return 0
    from notices.models import Notice

    return Notice.objects.unread_for(user).count()


@register.simple_tag(takes_context=True)
def next_in_language(context: template.Context, target: str = "") -> str:
    """The address to go to after signing in, in the page's language: switching the sign-in page's
    language changes where it leads, so the chosen language is kept after signing in."""
    from django.utils import translation
    from django.utils.http import url_has_allowed_host_and_scheme

    request = context.get("request")
    if not target or request is None:
        return target
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return ""
    current = translation.get_language()
    # translate_url resolves the address in the active language: resolve it in its own first.
    with translation.override(translation.get_language_from_path(target) or current):
        return translate_url(target, current)


@register.simple_tag
def wait_minutes(wait: object = None) -> int:
    """A wait (a timedelta, or seconds) in whole minutes, rounded up (0: unknown)."""
    import datetime as dt
    import math

    if isinstance(wait, dt.timedelta):
        seconds = wait.total_seconds()
    else:
        try:
            seconds = float(wait)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return 0
    return max(1, math.ceil(seconds / 60)) if seconds > 0 else 0
