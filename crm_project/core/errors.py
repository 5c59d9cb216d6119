"""
Django-level error pages. Under ``/api/`` they answer JSON, ``{"detail": ...}`` (a
client never parses an HTML page); elsewhere (the admin) Django's own pages are kept.

A database outage is 503 with ``Retry-After`` wherever it strikes: in a view (DRF's exception
handler), or before the view, in a middleware such as the Idempotency-Key one, whose
exceptions Django turns into the 500 handler's answer (``server_error`` below).
"""

import sys

from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

DATABASE_UNAVAILABLE = "The database is unavailable; retry shortly."
RETRY_AFTER_SECONDS = 5


def is_database_outage(exc: BaseException | None) -> bool:
    """The database cannot be reached (as opposed to a query it refused)."""
    return isinstance(exc, (OperationalError, InterfaceError)) or type(exc) is DatabaseError


def _is_api(request) -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/health")


def bad_request(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    return defaults.permission_denied(request, exception)


@csrf_exempt  # API clients send no CSRF token: a POST to an unknown path is a 404, not a 403.
def api_path_not_found(request, *args, **kwargs):
    """
    The last route under ``/api/``: an unknown API path is JSON, also with ``DJANGO_DEBUG=1``
    (where Django would answer its HTML debug page instead of ``page_not_found``).
    """
    return JsonResponse({"detail": "Not found."}, status=404)


def page_not_found(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        # Django calls this handler while handling the exception, so it is at hand.
        if is_database_outage(sys.exc_info()[1]):
            response = JsonResponse({"detail": DATABASE_UNAVAILABLE}, status=503)
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return defaults.server_error(request)
