"""The request's change context: its id (``X-Request-ID``) and where changes come from (API or admin)."""

from __future__ import annotations

import re
import uuid

from django.http import HttpRequest, HttpResponse

from crm_project.core.history import change_context

HEADER = "X-Request-ID"
# A client's own id is kept when it looks like one (a proxy's, a tracing system's).
_ACCEPTABLE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


class ChangeContextMiddleware:
    """
    Every request gets an id, the client's ``X-Request-ID`` or a new one, returned in the answer
    and recorded with every change it makes; changes made through ``/admin/`` are the admin's,
    any other the API's.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        request_id = given if _ACCEPTABLE_ID.match(given) else uuid.uuid4().hex
        source = "admin" if request.path.startswith("/admin/") else "api"
        with change_context(source=source, request_id=request_id):
            response = self.get_response(request)
        response[HEADER] = request_id
        return response
