"""
The HTTP shell every CRM record type shares: parse with an input serializer, call one
service, render with the output serializer. Subclasses name their selector and services.
"""

from __future__ import annotations

import uuid

from django.db.models import Model, QuerySet
from django.http import Http404
from rest_framework import status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from crm_project.core.redirects import merged_into
from crm_project.core.versioning import etag_for

from .permissions import HasCRMRole


class ParsesEveryBody:
    """
    A body sent with a write is parsed (400, 413, 415 when it is bad) on every write, also on
    an action that reads nothing from it: never silently ignored.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method in {"POST", "PUT", "PATCH"}:
            request.data  # noqa: B018 - parsing is the point


class MergedAway(NotFound):
    """A merged record's id: 404, naming the record it was merged into."""

    def __init__(self, survivor_id):
        super().__init__({"detail": "This record was merged into another.", "merged_into": str(survivor_id)})


class CRMModelViewSet(ParsesEveryBody, viewsets.GenericViewSet):
    """
    list, create, retrieve, update (PUT and PATCH both take a partial body) and destroy.
    Records outside ``visible_queryset()`` are 404 everywhere, actions included.
    """

    permission_classes = [IsAuthenticated, HasCRMRole]
    input_serializer_class = None
    # Read by the schema generator: detail answers carry an ETag header.
    sends_etag = True
    # The record type of merge redirects: a merged id answers 404 naming its survivor.
    merged_record_type: str | None = None

    # --- hooks for subclasses ---------------------------------------------------------

    def visible_queryset(self) -> QuerySet:
        raise NotImplementedError

    def create_record(self, data: dict) -> Model:
        raise NotImplementedError

    def update_record(self, instance: Model, data: dict, if_match: str | None) -> Model:
        raise NotImplementedError

    def delete_record(self, instance: Model, if_match: str | None) -> None:
        raise NotImplementedError

    # --- plumbing -----------------------------------------------------------------------

    def get_queryset(self) -> QuerySet:
        return self.visible_queryset()

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            self._refuse_merged_away()
            raise

    def _refuse_merged_away(self) -> None:
        """A record merged into another answers 404 naming the survivor, to whoever may see it."""
        if self.merged_record_type is None:
            return
        try:
            record_id = uuid.UUID(str(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)))
        except ValueError:
            return
        if self.visible_queryset().filter(pk=record_id).exists():
            return  # There, but filtered out of this action: not merged.
        survivor = merged_into(record_type=self.merged_record_type, record_id=record_id)
        if survivor is not None and self.visible_queryset().filter(pk=survivor).exists():
            raise MergedAway(survivor)

    def get_input_serializer_class(self):
        return self.input_serializer_class or self.get_serializer_class()

    def validated_input(self, instance: Model | None = None) -> dict:
        serializer = self.get_input_serializer_class()(
            instance, data=self.request.data, partial=instance is not None, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def if_match(self) -> str | None:
        return self.request.headers.get("If-Match")

    def record_response(self, instance: Model, status_code: int = status.HTTP_200_OK) -> Response:
        """Render a record fresh from the visible queryset (with its joins), with its ETag."""
        fresh = self.visible_queryset().filter(pk=instance.pk).first() or instance
        response = Response(self.get_serializer(fresh).data, status=status_code)
        response["ETag"] = etag_for(fresh)
        return response

    # --- actions ------------------------------------------------------------------------

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        response = Response(self.get_serializer(instance).data)
        response["ETag"] = etag_for(instance)
        return response

    def create(self, request, *args, **kwargs):
        instance = self.create_record(self.validated_input())
        return self.record_response(instance, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        instance = self.update_record(instance, self.validated_input(instance), self.if_match())
        return self.record_response(instance)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        self.delete_record(self.get_object(), self.if_match())
        return Response(status=status.HTTP_204_NO_CONTENT)
