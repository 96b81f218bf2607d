"""Shared REST plumbing: how domain errors become HTTP answers, pagination, upload limits."""

from django.conf import settings
from django.http import Http404
from rest_framework import exceptions, pagination, parsers, renderers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kpo.domain import (
    ActionNotAllowed,
    BusinessRuleViolation,
    DomainError,
    InvalidTransition,
    NotVisible,
)
from kpo.files import format_size


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This action is not allowed in the object's current state."
    default_code = "conflict"


def domain_to_api(error: DomainError) -> exceptions.APIException:
    if isinstance(error, NotVisible):
        return exceptions.NotFound()
    if isinstance(error, ActionNotAllowed):
        return exceptions.PermissionDenied(error.message)
    if isinstance(error, InvalidTransition):
        return Conflict(error.message)
    if isinstance(error, BusinessRuleViolation) and error.field:
        return exceptions.ValidationError({error.field: [error.message]})
    return exceptions.ValidationError({"detail": error.message})


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        exc = domain_to_api(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CursorPagination(pagination.CursorPagination):
    """For the append-only lists: stable under inserts, and page 1,000 costs what page 1 does."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"


class UploadParser(parsers.MultiPartParser):
    """Multipart parser that refuses a body larger than the upload limit before reading it."""

    def parse(self, stream, media_type=None, parser_context=None):
        request = parser_context["request"]
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        # Multipart framing adds a little around the file; allow for it.
        if length > settings.UPLOAD_MAX_BYTES + 64 * 1024:
            limit = format_size(settings.UPLOAD_MAX_BYTES)
            raise exceptions.ParseError(f"File is larger than the {limit} limit.")
        return super().parse(stream, media_type, parser_context)


def created(serializer_class, instance, context) -> Response:
    return Response(
        serializer_class(instance, context=context).data, status=status.HTTP_201_CREATED
    )


class PassthroughRenderer(renderers.BaseRenderer):
    """Lets download views answer a client that asks for the file's own type."""

    media_type = "*/*"
    format = "bin"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


DOWNLOAD_RENDERERS = [renderers.JSONRenderer, PassthroughRenderer]
