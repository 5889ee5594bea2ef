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
