"""Error reports that cannot show witness identity.

Django's default filter hides settings that look secret and the POST parameters a view marks as
sensitive, but still shows every local variable of every frame. For requests to the witness and
testimony endpoints (marked by `SensitiveParametersMixin`) this filter hides all frame variables
too, so an exception raised while handling a witness's name never copies it into an e-mail or a log.
"""

from __future__ import annotations

from typing import Any

from django.views.debug import SafeExceptionReporterFilter


class IdentityMaskingReporterFilter(SafeExceptionReporterFilter):
    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> list[tuple[str, Any]]:
        if request is not None and getattr(request, "sensitive_post_parameters", None) == "__ALL__":
            return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
        return super().get_traceback_frame_variables(request, tb_frame)
