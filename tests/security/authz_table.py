"""The authorization table: every URL pattern × method × role × record state → the expected status.

Roles, in column order: anonymous, documenter (the author of every record), second documenter,
reviewer, admin. Records are authored by the documenter and put in the row's state first.

A row is keyed by the URL pattern's name (format-suffix variants such as `.json` share their row).
A value is either one string of five statuses (any state), or {state: five statuses}. For lists,
"visible" says in which roles' results (y/n; "-" where the list is refused) the record appears;
the same must hold when the list is filtered by the record's own status.

`test_authorization_table.py` walks the URLconf: a pattern or method without a row here FAILS.
"""

from __future__ import annotations

ROLES = ("anonymous", "documenter", "second_documenter", "reviewer", "admin")
STATES = ("draft", "submitted", "changes_requested", "verified", "rejected")

D, S, C, V, R = STATES

# Reference data: read by anyone holding a role, written by admins only.
REFERENCE = {
    "GET": "401 200 200 200 200",
    "POST": "401 403 403 403 201",
}
REFERENCE_DETAIL = {
    "GET": "401 200 200 200 200",
    "PUT": "401 403 403 403 200",
    "PATCH": "401 403 403 403 200",
    "DELETE": "401 403 403 403 204",
}

# What most reviewable kinds share (incidents, victims, testimony, sources, media), by state.
# The record: its author always; reviewers and admins once submitted; every role once verified.
READ_OWN_THEN_REVIEWED = {
    D: "401 200 404 404 404",
    S: "401 200 404 200 200",
    C: "401 200 404 200 200",
    V: "401 200 200 200 200",
    R: "401 200 404 200 200",
}
# Its author, while it is a draft or sent back (409 once submitted or decided).
EDIT_OWN_EDITABLE = {
    D: "401 200 404 404 404",
    S: "401 409 404 403 403",
    C: "401 200 404 403 403",
    V: "401 409 403 403 403",
    R: "401 409 404 403 403",
}
# In lists as it is read: its author always; reviewers and admins once submitted; all once verified.
VISIBLE_OWN_THEN_REVIEWED = {
    D: "- y n n n",
    S: "- y n y y",
    C: "- y n y y",
    V: "- y y y y",
    R: "- y n y y",
}
# Reviewers and admins decide a submitted record (409 in any other state).
REVIEW = {
    D: "401 403 404 404 404",
    S: "401 403 404 200 200",
    C: "401 403 404 409 409",
    V: "401 403 403 409 409",
    R: "401 403 404 409 409",
}
# Reviewers and admins reopen a verified record (409 in any other state).
REOPEN = {
    D: "401 403 404 404 404",
    S: "401 403 404 409 409",
    C: "401 403 404 409 409",
    V: "401 403 403 200 200",
    R: "401 403 404 409 409",
}
# The edit page of a record attached to an incident: its author, while editable.
PAGE_EDIT_FORM = {
    D: "302 200 404 404 404",
    S: "302 409 404 403 403",
    C: "302 200 404 403 403",
    V: "302 409 403 403 403",
    R: "302 409 404 403 403",
}
# Saving that page (an empty form: 400 with its errors) by its author while editable.
PAGE_EDIT_SAVE = {
    D: "302 400 404 404 404",
    S: "302 409 404 403 403",
    C: "302 400 404 403 403",
    V: "302 409 403 403 403",
    R: "302 409 404 403 403",
}

TABLE: dict[str, dict] = {
    # --- API: sign-in, schema, root -----------------------------------------------------------
    "api-token": {"POST": "200 200 200 200 200"},  # with each actor's own password (anonymous: the documenter's)
    "api-logout": {"POST": "401 204 204 204 204"},
    "api-schema": {"GET": "200 200 200 200 200"},
    "api-docs": {"GET": "200 200 200 200 200"},
    "api-root": {"GET": "401 200 200 200 200"},
    "review-queue": {"GET": "401 403 403 200 200"},
    # One decision for many ids: 200 with a result per id for reviewers and admins (issue 15).
    "review-bulk": {"POST": "401 403 403 200 200"},
    # --- Reference data -----------------------------------------------------------------------
    "location-list": REFERENCE,
    "location-detail": REFERENCE_DETAIL,
    "perpetrator-list": REFERENCE,
    "perpetrator-detail": REFERENCE_DETAIL,
    "period-list": REFERENCE,
    "period-detail": REFERENCE_DETAIL,
    # --- Incidents ------------------------------------------------------------------------------
    "incident-list": {
        "GET": dict.fromkeys(STATES, "401 200 200 200 200"),
        "POST": "401 201 201 403 201",  # admins hold every permission, documenting included
        "visible": VISIBLE_OWN_THEN_REVIEWED,
    },
    "incident-detail": {
        "GET": READ_OWN_THEN_REVIEWED,
        "PUT": EDIT_OWN_EDITABLE,
        "PATCH": EDIT_OWN_EDITABLE,
        "DELETE": {  # only drafts are deleted; anything reviewers have seen stays
            D: "401 204 404 404 404",
            S: "401 409 404 403 403",
            C: "401 409 404 403 403",
            V: "401 409 403 403 403",
            R: "401 409 404 403 403",
        },
    },
    "incident-submit": {
        "POST": EDIT_OWN_EDITABLE,
    },
    "incident-review": {
        "POST": REVIEW,
    },
    "incident-reopen": {
        "POST": REOPEN,
    },
    "incident-history": {
        "GET": READ_OWN_THEN_REVIEWED,
    },
    # --- Victims (the victim and its incident both in the row's state) -------------------------
    "victim-list": {
        "GET": dict.fromkeys(STATES, "401 200 200 200 200"),
        # An incident the user cannot see is "not found" in the body's validation (400), never a 403 or 404.
        "POST": {
            D: "401 201 400 400 400",
            S: "401 403 400 403 403",
            C: "401 201 400 403 403",
            V: "401 201 201 403 201",
            R: "401 403 400 403 403",
        },
        "visible": VISIBLE_OWN_THEN_REVIEWED,
    },
    "victim-detail": {
        "GET": READ_OWN_THEN_REVIEWED,
        "PUT": EDIT_OWN_EDITABLE,
        "PATCH": EDIT_OWN_EDITABLE,
        "DELETE": {  # only drafts are deleted; anything reviewers have seen stays
            D: "401 204 404 404 404",
            S: "401 409 404 403 403",
            C: "401 409 404 403 403",
            V: "401 409 403 403 403",
            R: "401 409 404 403 403",
        },
    },
    "victim-submit": {
        "POST": EDIT_OWN_EDITABLE,
    },
    "victim-review": {
        "POST": REVIEW,
    },
    "victim-reopen": {
        "POST": REOPEN,
    },
    "victim-history": {
        "GET": READ_OWN_THEN_REVIEWED,
    },
    # --- Operators and pages --------------------------------------------------------------------
    "healthz": {"GET": "200 200 200 200 200"},
    "set_language": {"POST": "302 302 302 302 302"},
    "/": {"GET": "302 302 302 302 302"},  # the root redirects to the home page
    "page:home": {"GET": "302 200 200 200 200"},
    "page:login": {"GET": "200 200 200 200 200", "POST": "200 200 200 200 200"},  # POST: a wrong password
    "page:logout": {"POST": "302 302 302 302 302"},
    "page:password_change": {"GET": "302 200 200 200 200", "POST": "302 200 200 200 200"},  # POST: a wrong old password
    "page:password_change_done": {"GET": "302 200 200 200 200"},
    "page:password_reset": {"GET": "200 200 200 200 200", "POST": "302 302 302 302 302"},
    "page:password_reset_done": {"GET": "200 200 200 200 200"},
    "page:password_reset_confirm": {"GET": "200 200 200 200 200", "POST": "200 200 200 200 200"},  # an invalid link
    "page:password_reset_complete": {"GET": "200 200 200 200 200"},
    # Enrolled, verified reviewers and admins are sent on; documenters may enrol if they wish.
    "page:otp-enrol": {"GET": "302 302 302 302 302", "POST": "302 302 302 302 302"},
    "page:otp-verify": {"GET": "302 302 302 302 302", "POST": "302 302 302 302 302"},
    "page:otp-enrol-link": {"GET": "302 302 302 302 302"},  # (a link that is not valid)
    # Every admin page: staff (the admin) only; everybody else is sent to the admin sign-in. The
    # statuses are the index's; every registered model's list is also checked (302 for non-staff).
    "admin:*": {"GET": "302 302 302 302 200"},
    # --- Witnesses (identity fields: see tests/evidence; here, who reaches the rows) ---------------
    "witness-list": {
        "GET": dict.fromkeys(STATES, "401 200 200 200 200"),
        "POST": dict.fromkeys(STATES, "401 201 201 403 201"),
        "visible": {
            D: "- y n y y",
            S: "- y n y y",
            C: "- y n y y",
            V: "- y n y y",
            R: "- y n y y",
        },
    },
    "witness-detail": {
        "GET": dict.fromkeys(STATES, "401 200 404 200 200"),
        "PATCH": dict.fromkeys(STATES, "401 200 404 403 200"),
    },
    # --- Testimony, sources and media: on the documenter's incident, both in the row's state. Reviewers
    #     never write evidence (403 before any lookup); others meet "not found" on what they cannot see.
    "testimony-list": {
        "GET": dict.fromkeys(STATES, "401 200 200 200 200"),
        "POST": {
            D: "401 201 400 403 400",
            S: "401 403 400 403 403",
            C: "401 201 400 403 403",
            V: "401 201 400 403 201",
            R: "401 403 400 403 403",
        },
        "visible": VISIBLE_OWN_THEN_REVIEWED,
    },
    "testimony-detail": {
        "GET": READ_OWN_THEN_REVIEWED,
        "PATCH": {
            D: "401 200 404 403 404",
            S: "401 409 404 403 403",
            C: "401 200 404 403 403",
            V: "401 409 403 403 403",
            R: "401 409 404 403 403",
        },
        "DELETE": {
            D: "401 204 404 403 404",
            S: "401 409 404 403 403",
            C: "401 409 404 403 403",
            V: "401 409 403 403 403",
            R: "401 409 404 403 403",
        },
    },
    "testimony-submit": {
        "POST": EDIT_OWN_EDITABLE,
    },
    "testimony-review": {
        "POST": REVIEW,
    },
    "testimony-reopen": {
        "POST": REOPEN,
    },
    "testimony-history": {
        "GET": READ_OWN_THEN_REVIEWED,
    },
    "source-list": {
        "GET": dict.fromkeys(STATES, "401 200 200 200 200"),
        "POST": {
            D: "401 201 400 403 400",
            S: "401 403 400 403 403",
            C: "401 201 400 403 403",
            V: "401 201 201 403 201",
            R: "401 403 400 403 403",
        },
        "visible": VISIBLE_OWN_THEN_REVIEWED,
    },
    "source-detail": {
        "GET": READ_OWN_THEN_REVIEWED,
        "PATCH": {
            D: "401 200 404 403 404",
            S: "401 409 404 403 403",
            C: "401 200 404 403 403",
            V: "401 409 403 403 403",
            R: "401 409 404 403 403",
        },
        "DELETE": {
            D: "401 204 404 403 404",
            S: "401 409 404 403 403",
            C: "401 409 404 403 403",
            V: "401 409 403 403 403",
            R: "401 409 404 403 403",
        },
    },
    "source-submit": {
        "POST": EDIT_OWN_EDITABLE,
    },
    "source-review": {
        "POST": REVIEW,
    },
    "source-reopen": {
        "POST": REOPEN,
    },
    "source-history": {
        "GET": READ_OWN_THEN_REVIEWED,
    },
    "media-list": {
        "GET": dict.fromkeys(STATES, "401 200 200 200 200"),
        "POST": {
            D: "401 201 400 403 400",
            S: "401 403 400 403 403",
            C: "401 201 400 403 403",
            V: "401 201 201 403 201",
            R: "401 403 400 403 403",
        },
        "visible": VISIBLE_OWN_THEN_REVIEWED,
    },
    "media-detail": {
        "GET": READ_OWN_THEN_REVIEWED,
        "PATCH": {
            D: "401 200 404 403 404",
            S: "401 409 404 403 403",
            C: "401 200 404 403 403",
            V: "401 409 403 403 403",
            R: "401 409 404 403 403",
        },
    },
    "media-submit": {
        "POST": EDIT_OWN_EDITABLE,
    },
    "media-review": {
        "POST": REVIEW,
    },
    "media-reopen": {
        "POST": REOPEN,
    },
    "media-history": {
        "GET": READ_OWN_THEN_REVIEWED,
    },
    "media-original": {
        "GET": {
            D: "401 200 404 404 404",
            S: "401 200 404 200 200",
            C: "401 200 404 200 200",
            V: "401 200 403 200 200",
            R: "401 200 404 200 200",
        },
    },
    "media-redacted": {
        "GET": READ_OWN_THEN_REVIEWED,
    },
    "media-custody": {
        "GET": READ_OWN_THEN_REVIEWED,
    },
    # --- Counts: admins only; for snapshots the row's state reads D pending, S running, C failed,
    #     V done and published, R done and not yet published ---------------------------------------
    "count-list": {
        "GET": dict.fromkeys(STATES, "401 403 403 403 200"),
        "POST": dict.fromkeys(STATES, "401 403 403 403 202"),
        "visible": {
            D: "- - - - y",
            S: "- - - - y",
            C: "- - - - y",
            V: "- - - - y",
            R: "- - - - y",
        },
    },
    "count-detail": {
        "GET": dict.fromkeys(STATES, "401 403 403 403 200"),
    },
    "count-publish": {
        "POST": {
            D: "401 403 403 403 409",
            S: "401 403 403 403 409",
            C: "401 403 403 403 409",
            V: "401 403 403 403 409",
            R: "401 403 403 403 200",
        },
    },
    "count-export": {
        "GET": {
            D: "401 403 403 403 409",
            S: "401 403 403 403 409",
            C: "401 403 403 403 409",
            V: "401 403 403 403 200",
            R: "401 403 403 403 200",
        },
    },
    "count-victims-csv": {
        "GET": {
            D: "401 403 403 403 409",
            S: "401 403 403 403 409",
            C: "401 403 403 403 409",
            V: "401 403 403 403 200",
            R: "401 403 403 403 200",
        },
    },
    # --- Published figures: anyone, published snapshots only ------------------------------------
    "public-count-list": {
        "GET": dict.fromkeys(STATES, "200 200 200 200 200"),
        "visible": {
            D: "n n n n n",
            S: "n n n n n",
            C: "n n n n n",
            V: "y y y y y",
            R: "n n n n n",
        },
    },
    "public-count-detail": {
        "GET": {
            D: "404 404 404 404 404",
            S: "404 404 404 404 404",
            C: "404 404 404 404 404",
            V: "200 200 200 200 200",
            R: "404 404 404 404 404",
        },
    },
    "public-count-export": {
        "GET": {
            D: "404 404 404 404 404",
            S: "404 404 404 404 404",
            C: "404 404 404 404 404",
            V: "200 200 200 200 200",
            R: "404 404 404 404 404",
        },
    },
    # --- Imports of lists (intake): the documenter's import; for imports the row's state reads D a finished
    #     dry run, S running, C failed, V a finished import, R pending. Reviewers import nothing. ---------
    "import-list": {
        "GET": dict.fromkeys(STATES, "401 200 200 403 200"),
        "POST": dict.fromkeys(STATES, "401 202 202 403 202"),
        "visible": dict.fromkeys(STATES, "- y n - y"),
    },
    "import-detail": {
        "GET": dict.fromkeys(STATES, "401 200 404 403 200"),
    },
    "import-errors": {
        "GET": dict.fromkeys(STATES, "401 200 404 403 200"),
    },
    "import-run-again": {
        "POST": {
            D: "401 409 404 403 409",
            S: "401 409 404 403 409",
            C: "401 202 404 403 202",
            V: "401 409 404 403 409",
            R: "401 409 404 403 409",
        },
    },
    # --- Duplicate scans (matching-engine): reviewers and admins start and follow a scan -------------------
    "duplicate-scan-start": {"POST": "401 403 403 202 202"},
    "duplicate-scan-detail": {"GET": "401 403 403 200 200"},
    # --- end duplicate scans --------------------------------------------------------------------------------
    "page:imports": {
        "GET": "302 200 200 403 200",
        "POST": "302 400 400 403 400",  # no file attached: the form again, with its error
    },
    "page:import-page": {
        "GET": dict.fromkeys(STATES, "302 200 404 403 200"),
    },
    "page:import-progress": {
        "GET": dict.fromkeys(STATES, "302 200 404 403 200"),
    },
    "page:import-carry-out": {  # only the one who checked the file carries out its finished dry run
        "POST": {
            D: "302 302 404 403 403",
            S: "302 409 404 403 403",
            C: "302 409 404 403 403",
            V: "302 409 404 403 403",
            R: "302 409 404 403 403",
        },
    },
    "page:import-run-again": {
        "POST": {
            D: "302 409 404 403 409",
            S: "302 409 404 403 409",
            C: "302 302 404 403 302",
            V: "302 409 404 403 409",
            R: "302 409 404 403 409",
        },
    },
    # --- Pages (records and evidence), by the record's state. POST sends an empty or
    #     invalid form: 200/400 mean access was granted (the form is shown again with errors). ---
    "page:incident-new": {
        "GET": "302 200 200 403 200",
        "POST": "302 400 400 403 400",
    },
    "page:incident-detail": {
        "GET": {
            D: "302 200 404 404 404",
            S: "302 200 404 200 200",
            C: "302 200 404 200 200",
            V: "302 200 200 200 200",
            R: "302 200 404 200 200",
        },
    },
    "page:incident-submit": {
        "POST": {
            D: "302 302 404 404 404",
            S: "302 409 404 403 403",
            C: "302 302 404 403 403",
            V: "302 409 403 403 403",
            R: "302 409 404 403 403",
        },
    },
    "page:incident-delete": {
        "POST": {
            D: "302 302 404 404 404",
            S: "302 409 404 403 403",
            C: "302 409 404 403 403",
            V: "302 409 403 403 403",
            R: "302 409 404 403 403",
        },
    },
    "page:victim-add": {
        "GET": {
            D: "302 302 404 404 404",
            S: "302 302 404 403 302",
            C: "302 302 404 403 302",
            V: "302 302 302 403 302",
            R: "302 302 404 403 302",
        },
        "POST": {
            D: "302 400 404 404 404",
            S: "302 400 404 403 400",
            C: "302 400 404 403 400",
            V: "302 400 400 403 400",
            R: "302 400 404 403 400",
        },
    },
    "page:victim-edit": {
        "GET": PAGE_EDIT_FORM,
        "POST": PAGE_EDIT_SAVE,
    },
    "page:victim-delete": {
        "POST": {
            D: "302 302 404 404 404",
            S: "302 409 404 403 403",
            C: "302 409 404 403 403",
            V: "302 409 403 403 403",
            R: "302 409 404 403 403",
        },
    },
    "page:review-queue": {
        "GET": "302 403 403 200 200",
    },
    "page:review-record": {
        "GET": {
            D: "302 403 403 404 404",
            S: "302 403 403 200 200",
            C: "302 403 403 200 200",
            V: "302 403 403 200 200",
            R: "302 403 403 200 200",
        },
        "POST": {
            D: "302 403 403 404 404",
            S: "302 403 403 302 302",
            C: "302 403 403 409 409",
            V: "302 403 403 409 409",
            R: "302 403 403 409 409",
        },
    },
    "page:review-reopen": {
        "POST": {
            D: "302 403 403 404 404",
            S: "302 403 403 409 409",
            C: "302 403 403 409 409",
            V: "302 403 403 302 302",
            R: "302 403 403 409 409",
        },
    },
    "page:counts": {
        "GET": "302 403 403 403 200",
        "POST": "302 403 403 403 302",
    },
    "page:count-detail": {
        "GET": "302 403 403 403 200",
    },
    "page:count-status": {
        "GET": "302 403 403 403 200",
    },
    "page:count-publish": {
        # GET: the confirmation step (issue 15: publishing says it cannot be undone); POST confirms it.
        "GET": {
            D: "302 403 403 403 409",
            S: "302 403 403 403 409",
            C: "302 403 403 403 409",
            V: "302 403 403 403 409",
            R: "302 403 403 403 200",
        },
        "POST": {
            D: "302 403 403 403 409",
            S: "302 403 403 403 409",
            C: "302 403 403 403 409",
            V: "302 403 403 403 409",
            R: "302 403 403 403 302",
        },
    },
    "page:count-export": {
        "GET": {
            D: "302 403 403 403 409",
            S: "302 403 403 403 409",
            C: "302 403 403 403 409",
            V: "302 403 403 403 200",
            R: "302 403 403 403 200",
        },
    },
    "page:public": {
        "GET": "200 200 200 200 200",
    },
    "page:public-count": {
        "GET": {
            D: "404 404 404 404 404",
            S: "404 404 404 404 404",
            C: "404 404 404 404 404",
            V: "200 200 200 200 200",
            R: "404 404 404 404 404",
        },
    },
    "page:incident-evidence": {
        "GET": {
            D: "302 200 404 404 404",
            S: "302 200 404 200 200",
            C: "302 200 404 200 200",
            V: "302 200 200 200 200",
            R: "302 200 404 200 200",
        },
    },
    "page:testimony-new": {
        "GET": {
            D: "302 200 404 404 404",
            S: "302 403 404 403 403",
            C: "302 200 404 403 403",
            V: "302 200 200 403 200",
            R: "302 403 404 403 403",
        },
        "POST": {
            D: "302 400 404 404 404",
            S: "302 403 404 403 403",
            C: "302 400 404 403 403",
            V: "302 400 400 403 400",
            R: "302 403 404 403 403",
        },
    },
    "page:media-upload": {
        "GET": {
            D: "302 302 404 404 404",
            S: "302 302 404 302 302",
            C: "302 302 404 302 302",
            V: "302 302 302 302 302",
            R: "302 302 404 302 302",
        },
        "POST": {
            D: "302 400 404 404 404",
            S: "302 400 404 400 400",
            C: "302 400 404 400 400",
            V: "302 400 400 400 400",
            R: "302 400 404 400 400",
        },
    },
    # --- Issue 15: lists, bulk decisions on pages, evidence changed on pages, notices -------------------
    "page:incident-list": {"GET": "302 200 200 200 200"},
    "page:victim-list": {"GET": "302 200 200 200 200"},
    "page:evidence-list": {"GET": "302 200 200 200 200"},
    "page:notice-list": {"GET": "302 200 200 200 200"},
    "page:review-bulk": {"POST": "302 403 403 302 302"},
    "page:source-new": {
        "GET": {
            D: "302 200 404 404 404",
            S: "302 403 404 403 403",
            C: "302 200 404 403 403",
            V: "302 200 200 403 200",
            R: "302 403 404 403 403",
        },
        "POST": {
            D: "302 400 404 404 404",
            S: "302 403 404 403 403",
            C: "302 400 404 403 403",
            V: "302 400 400 403 400",
            R: "302 403 404 403 403",
        },
    },
    # Changing one piece of evidence: its author, while it is a draft or sent back.
    **{
        key: {
            "GET": {
                D: "302 200 404 404 404",
                S: "302 409 404 403 403",
                C: "302 200 404 403 403",
                V: "302 409 403 403 403",
                R: "302 409 404 403 403",
            },
            "POST": {
                D: "302 400 404 404 404",
                S: "302 409 404 403 403",
                C: "302 400 404 403 403",
                V: "302 409 403 403 403",
                R: "302 409 404 403 403",
            },
        }
        for key in ("page:source-edit", "page:testimony-edit", "page:media-edit")
    },
    "page:source-delete": {
        "POST": {
            D: "302 302 404 404 404",
            S: "302 409 404 403 403",
            C: "302 409 404 403 403",
            V: "302 409 403 403 403",
            R: "302 409 404 403 403",
        },
    },
    "page:record-submit": {
        "POST": {
            D: "302 302 404 404 404",
            S: "302 409 404 403 403",
            C: "302 302 404 403 403",
            V: "302 409 403 403 403",
            R: "302 409 404 403 403",
        },
    },
    "page:media-custody": {
        "GET": {
            D: "302 200 404 404 404",
            S: "302 200 404 200 200",
            C: "302 200 404 200 200",
            V: "302 200 200 200 200",
            R: "302 200 404 200 200",
        },
    },
    # The witness's identity: the documenter who registered them (and holders of the identity right).
    "page:witness-edit": {"GET": "302 200 404 403 200", "POST": "302 400 404 403 400"},
    # --- matching-review: duplicates across sources (issue 14). A candidate pair of the documenter's two
    #     victims, both (and their incident) in the row's state; for unmerge the second is marked a
    #     duplicate of the first. Reviewers and admins only; a pair with a hidden victim is "not found". ---
    "duplicate-list": {
        "GET": dict.fromkeys(STATES, "401 403 403 200 200"),
        "visible": {D: "- - - n n", S: "- - - y y", C: "- - - y y", V: "- - - y y", R: "- - - y y"},
    },
    "duplicate-decide": {"POST": {**dict.fromkeys(STATES, "401 403 403 200 200"), D: "401 403 403 404 404"}},
    "victim-unmerge": {"POST": {**dict.fromkeys(STATES, "401 403 403 200 200"), D: "401 403 403 404 404"}},
    "page:duplicates-queue": {"GET": "302 403 403 200 200"},
    "page:duplicates-pair": {"GET": {**dict.fromkeys(STATES, "302 403 403 200 200"), D: "302 403 403 404 404"}},
    "page:duplicates-decide": {"POST": {**dict.fromkeys(STATES, "302 403 403 302 302"), D: "302 403 403 404 404"}},
    "page:duplicates-group": {"GET": {**dict.fromkeys(STATES, "302 403 403 200 200"), D: "302 403 403 404 404"}},
    "page:duplicates-unmerge": {"POST": {**dict.fromkeys(STATES, "302 403 403 302 302"), D: "302 403 403 404 404"}},
    "page:duplicates-scan": {"POST": "302 403 403 302 302"},
    "page:duplicates-scan-progress": {"GET": "302 403 403 200 200"},
    # --- end matching-review ---
}

# --- The second-factor dimension ----------------------------------------------------------------
# The same requests by the documenter, the second documenter, the reviewer and the admin signed in
# WITHOUT a verified second factor: on the API a token obtained with the password only, on pages a
# session that verified no code, and no device at all. The rule (accounts.auth, accounts.middleware):
# documenters answer exactly as in TABLE; reviewers and admins are refused everywhere, on the API with
# 403 `second_factor_required` and on pages by a redirect to enrol or verify (302), except on the rows of
# WITHOUT_SECOND_FACTOR, which give the four statuses (documenter, second documenter, reviewer, admin).

WITHOUT_SECOND_FACTOR_ROLES = ("documenter", "second_documenter", "reviewer", "admin")

WITHOUT_SECOND_FACTOR: dict[str, dict] = {
    "api-token": {"POST": "200 200 200 200"},  # a token that can do nothing but sign out
    "api-logout": {"POST": "204 204 204 204"},
    "api-schema": {"GET": "200 200 200 200"},
    "api-docs": {"GET": "200 200 200 200"},
    "healthz": {"GET": "200 200 200 200"},
    "set_language": {"POST": "302 302 302 302"},
    "/": {"GET": "302 302 302 302"},
    "page:login": {"GET": "200 200 200 200", "POST": "200 200 200 200"},
    "page:logout": {"POST": "302 302 302 302"},
    # No device yet: enrolment needs an admin's one-time link (accounts.enrolment), for documenters too;
    # verifying without a device sends one to enrol.
    "page:otp-enrol": {"GET": "403 403 403 403", "POST": "403 403 403 403"},
    "page:otp-enrol-link": {"GET": "403 403 403 403"},
    "page:otp-verify": {"GET": "302 302 302 302", "POST": "302 302 302 302"},
}


def without_second_factor(key: str, method: str, state: str | None) -> list[str]:
    """The four statuses without a second factor (see above)."""
    row = WITHOUT_SECOND_FACTOR.get(key, {}).get(method)
    if row is not None:
        return (row[state] if isinstance(row, dict) else row).split()
    value = TABLE[key][method]
    strong = dict(zip(ROLES, (value[state] if isinstance(value, dict) else value).split(), strict=True))
    refusal = "302" if key.startswith(("page:", "admin:")) else "403"
    return [strong["documenter"], strong["second_documenter"], refusal, refusal]
