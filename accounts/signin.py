"""Signing in: tokens tied to the browser session that obtained them, and the per-username back-off."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

SESSION_TOKENS_KEY = "api_token_ids"


def remember_token_in_session(request: HttpRequest, user: Any, token: Any) -> None:
    """A token obtained from a browser signed in as the same user belongs to that session: signing out
    of the site revokes it (accounts.signals). Tokens obtained elsewhere belong to no session."""
    session = getattr(request, "session", None)
    signed_in = getattr(request, "user", None)
    if session is None or signed_in is None or not signed_in.is_authenticated or signed_in.pk != user.pk:
        return
    session[SESSION_TOKENS_KEY] = [*session.get(SESSION_TOKENS_KEY, []), token.pk]


def record_success(request: HttpRequest, username: str) -> None:
    """A sign-in succeeded (per-username back-off: item 17)."""
