"""The review workflow: one transition table for every reviewable kind.

(The transitions themselves arrive with the review-workflow issue; this module already owns the
error that an illegal move raises, so services can refuse edits of records under review.)
"""

from __future__ import annotations


class IllegalTransition(Exception):
    """A move the record's current state does not allow, or a concurrent change won (HTTP 409)."""
