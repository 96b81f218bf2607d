"""Shared REST plumbing: how domain errors become HTTP answers, pagination, the parsers
(body limits, text rules), and the fields every serializer shares."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, pagination, parsers, renderers, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from kpo.audit import denials
from kpo.domain import (
    ActionNotAllowed,
    BusinessRuleViolation,
    DomainError,
    InvalidTransition,
    NotVisible,
)
from kpo.files import format_size
from kpo.text import text_problem


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
    # Before the error becomes a response: the denial is told by the original exception.
    denials.note_api_exception(exc, context)
    if isinstance(exc, DomainError):
        exc = domain_to_api(exc)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, RequestDataTooBig):
        # Django's own limits on a body, met while the view reads it: JSON like any other
        # refusal of the API, rather than Django's HTML error page.
        limit = format_size(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        exc = RequestTooLarge(f"The request body is larger than the {limit} limit.")
    elif isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        exc = exceptions.ParseError(str(exc))
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


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _first_problem(value) -> str | None:
    return next(filter(None, map(text_problem, _strings(value))), None)


def refuse_unwanted_text(data):
    """400 naming each field whose text (at any depth) breaks `kpo.text`'s rule. Run on every
    parsed body, so that no serializer field, present or future, has to remember it."""
    if isinstance(data, QueryDict):
        fields = data.lists()
    elif isinstance(data, dict):
        fields = data.items()
    else:
        problem = _first_problem(data)
        if problem:
            raise exceptions.ParseError(problem)
        return data
    errors = {name: [problem] for name, value in fields if (problem := _first_problem(value))}
    if errors:
        raise exceptions.ValidationError(errors)
    return data


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing control characters (`kpo.text`), and very deep nesting:
    the json module answers `[[[[…` a hundred thousand deep with RecursionError, which is not
    the ValueError DRF turns into a 400, so it would be a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            message = "JSON parse error - the document is nested too deeply."
            raise exceptions.ParseError(message) from None
        return refuse_unwanted_text(data)


class FormParser(parsers.FormParser):
    """DRF's form parser, refusing control characters like the JSON one."""

    def parse(self, stream, media_type=None, parser_context=None):
        return refuse_unwanted_text(super().parse(stream, media_type, parser_context))


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
        parsed = super().parse(stream, media_type, parser_context)
        refuse_unwanted_text(parsed.data)
        return parsed


class IdField(serializers.PrimaryKeyRelatedField):
    """An object by its integer id. DRF's own field hands the value to the ORM as it came,
    and Django reads 1.5 (or "1.5") as 1: a float must not name another object."""

    def __init__(self, **kwargs):
        kwargs.setdefault("pk_field", serializers.IntegerField())
        super().__init__(**kwargs)


class ZonedDateTimeField(serializers.DateTimeField):
    """API.md: times are ISO 8601 with a time zone. DRF would read one without as the server's
    local time; a client that forgot the zone is told so rather than guessed for."""

    default_error_messages = {
        "naive": "Give the time zone too, e.g. 2026-03-01T09:00:00Z or 2026-03-01T10:00:00+01:00."
    }

    def to_internal_value(self, value):
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None  # well formed but impossible (30 February): the parent says so
        if parsed is not None and timezone.is_naive(parsed):
            self.fail("naive")
        return super().to_internal_value(value)


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
