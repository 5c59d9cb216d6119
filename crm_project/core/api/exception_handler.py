"""
One place that turns every exception a view can raise into the API's error shapes:
``{"field": ["message"]}`` for invalid input, ``{"detail": "..."}`` for everything else.

- DRF's own exceptions keep DRF's shapes (400 field dict, ``{"detail"}`` otherwise).
- ``django.core.exceptions.ValidationError`` from a service: 400 naming the field.
- ``Conflict``: 409; ``PreconditionFailed``: 412; a protected delete: 409.
- An ``IntegrityError``: our constraint's message on its field (400), else 409.
- The database out of reach: 503 with ``Retry-After``.
- Anything else: logged with its traceback, answered as a JSON 500 without one.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm_project.core.errors import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, is_database_outage
from crm_project.core.exceptions import Conflict, PreconditionFailed, deletion_refused
from crm_project.core.integrity import violation_for

logger = logging.getLogger("crm.api")


def validation_error_body(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): messages
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": exc.messages}


def crm_exception_handler(exc: Exception, context: dict) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is not None:
        return response

    if isinstance(exc, ObjectDoesNotExist):
        # The record was deleted by another request between reading it and locking it.
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_body(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, PreconditionFailed):
        return Response({"detail": exc.message}, status=status.HTTP_412_PRECONDITION_FAILED)
    if isinstance(exc, (ProtectedError, RestrictedError)):
        # A delete outside the services (which refuse it themselves, with advice).
        return Response({"detail": deletion_refused(exc).message}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, IntegrityError):
        violation = violation_for(exc)
        if violation is not None:
            return Response({violation.field: [violation.message]}, status=status.HTTP_400_BAD_REQUEST)
        logger.warning("Unmapped integrity error: %s", exc)
        return Response({"detail": "The request conflicts with existing data."}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DataError):
        return Response(
            {"detail": "A value is out of range or of the wrong type for its field."},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if is_database_outage(exc):
        logger.error("Database unavailable: %s", exc)
        return Response(
            {"detail": DATABASE_UNAVAILABLE},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
    return Response({"detail": "Internal server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR)
