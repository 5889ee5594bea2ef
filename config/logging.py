"""Log records and error reports never carry witness identity; records made for a request name its client.

Witness fields (name, contact, notes and their variants) are masked wherever they might surface:
in the structured fields of a log record, and in the POST data and local variables of an error report.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from config.client import client_address, current_client_address
from evidence.reporting import IdentityMaskingReporterFilter

MASK = "********************"

# Field names that hold a witness's identity, in any app (testimonies, witnesses, evidence).
WITNESS_FIELDS = re.compile(r"(^|_)(witness(_?name|_?contact)?|contact|notes|identity)($|_)", re.IGNORECASE)
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


def is_witness_field(name: str) -> bool:
    return bool(WITNESS_FIELDS.search(str(name)))


def mask_mapping(value: Any) -> Any:
    """A copy of `value` with every witness field (at any depth) replaced by a mask."""
    if isinstance(value, dict):
        return {key: MASK if is_witness_field(key) else mask_mapping(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(mask_mapping(item) for item in value)
    return value


class MaskWitnessFields(logging.Filter):
    """Mask witness fields passed as `extra=` (and dict arguments) before any handler formats them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in list(vars(record)):
            if name in _STANDARD_ATTRIBUTES:
                continue
            if is_witness_field(name):
                setattr(record, name, MASK)
            else:
                setattr(record, name, mask_mapping(getattr(record, name)))
        if isinstance(record.args, dict):
            record.args = mask_mapping(record.args)
        elif isinstance(record.args, tuple):
            record.args = tuple(mask_mapping(arg) for arg in record.args)
        return True


class AddClientAddress(logging.Filter):
    """Every record made while a request is served carries `client_address` (config/client.py): the
    client's, not the proxy's. Django's own request records (4xx/5xx responses) are written after the
    middleware has finished, so their `request` is asked instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "client_address", None):
            return True
        address = current_client_address()
        if address is None:
            request = getattr(record, "request", None)
            address = client_address(request) if hasattr(request, "META") else None
        if address:
            record.client_address = address
        return True


class WitnessSafeExceptionReporterFilter(IdentityMaskingReporterFilter):
    """Django's filter (secrets, passwords), evidence's (every frame variable of a witness or testimony
    request), plus witness fields by name in POST data and local variables of any request."""

    def get_post_parameters(self, request: Any) -> Any:
        parameters = super().get_post_parameters(request)
        if request is None:
            return parameters
        cleansed = parameters.copy()
        # On witness endpoints even a plain "name" is a witness's name.
        on_witness_path = "witness" in getattr(request, "path", "")
        for key in cleansed:
            if is_witness_field(key) or (on_witness_path and key in {"name", "name_ar"}):
                cleansed[key] = MASK
        return cleansed

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        if isinstance(key, str) and is_witness_field(key):
            return self.cleansed_substitute
        return super().cleanse_setting(key, value)

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> list[tuple[str, Any]]:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [
            (name, self.cleansed_substitute if is_witness_field(name) else mask_mapping(value))
            for name, value in variables
        ]
