"""Authorisation denials in the audit trail: who tried to do what to which object, and from
where. One module for the browser and the API alike.

How a denial travels:
1. Whoever refuses describes the refusal on the exception it raises: the access module
   (`policy.require`, `policy.require_organisation_action`) with `refused`, `kpo.web`'s
   `visible_or_404` with `hidden_object`, `kpo.web.domain_action` with `carry` when it turns
   a domain error into an HTTP one. The API's exception handler calls `note_api_exception`,
   which also describes the API's own refusals (DRF's PermissionDenied, `get_object`'s 404).
2. The denial is noted on the request, and `DenialMiddleware` writes it after the response
   is made. Not earlier: services check access inside `transaction.atomic`, and an event
   written in the transaction that the refusal rolls back would vanish with it.

A 404 is a denial only when the object exists: an id that names nothing leaves no event
(the answer itself is the same in both cases; only this module looks further).

What the event says (action `access.denied`):
- `actor`; `target_type` and `target_id` when the object is known; `changes` holds the
  attempted action (the access module's action, such as "manage" or "review", or else the
  page's URL name), the URL name, the HTTP method, the path and the status; `ip` and
  `user_agent` as on every event.
- `target_repr` only for a 403, where the user could see the object anyway. For a 404 the
  user may not know the object's name, and the event is readable by the user's own
  organisation, so only the id they asked for is kept.
- Scope: `client` / `provider` are the ACTOR's organisation, so the denial is in the actor's
  own organisation trail: it is their user doing it. `engagement` is the engagement the
  object belongs to, when it belongs to one, so the denial also shows in that engagement's
  trail and in the trail of the organisations on it (the client's and the provider's,
  `selectors.organisation_trail`): it was an attempt at their data. A denial about an
  object of an organisation outside any engagement (a team, a vendor approval, a webhook, a
  notification) is in the actor's organisation trail only; staff see every denial.
"""

import logging
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.http import Http404

DENIED = "access.denied"
_NOTED = "_kpo_access_denial"
_PATH_LIMIT = 500

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Denial:
    """What was refused. `hidden` means the user may not see the object (answered 404)."""

    hidden: bool
    attempted: str = ""
    model: type | None = None
    target_id: str = ""
    target_repr: str = ""
    engagement_id: int | None = None


def _engagement_id(obj) -> int | None:
    """The id of the engagement an engagement-scoped object belongs to, without loading the
    engagement itself."""
    path = getattr(type(obj), "engagement_path", None)
    if path is None:
        return None
    if path == "":
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop)
    return getattr(obj, f"{last}_id")


def describe(obj, *, hidden: bool, attempted: str = "") -> Denial:
    return Denial(
        hidden=hidden,
        attempted=attempted,
        model=type(obj),
        target_id=str(obj.pk),
        target_repr="" if hidden else str(obj)[:255],
        engagement_id=_engagement_id(obj),
    )


def denial_of(error) -> Denial | None:
    return getattr(error, "access_denial", None)


def refused(error, *, action: str, obj=None):
    """`error` (NotVisible or ActionNotAllowed), described for the audit trail."""
    from kpo.domain import NotVisible

    hidden = isinstance(error, NotVisible)
    error.access_denial = (
        describe(obj, hidden=hidden, attempted=action)
        if obj is not None
        else Denial(hidden=hidden, attempted=action)
    )
    return error


def carry(source, error):
    """`error` (the HTTP answer to the domain error `source`) with the same denial. A domain
    error no policy check described is still a denial: services raise NotVisible and
    ActionNotAllowed only about objects that exist."""
    from kpo.domain import NotVisible

    error.access_denial = denial_of(source) or Denial(hidden=isinstance(source, NotVisible))
    return error


def hidden_object(model, lookup: dict) -> Http404:
    """The 404 for a lookup that a restricted queryset did not find; a denial when the object
    exists all the same (one query, on this path only)."""
    error = Http404("Not found.")
    path = getattr(model, "engagement_path", None)
    fields = ["pk"] if path is None else ["pk", path or "pk"]
    try:
        row = model._base_manager.filter(**lookup).values_list(*fields).first()
    except (ValueError, TypeError, ValidationError):
        row = None
    if row is not None:
        error.access_denial = Denial(
            hidden=True,
            model=model,
            target_id=str(row[0]),
            engagement_id=row[1] if len(row) > 1 else None,
        )
    return error


# -- noting a denial on the request ----------------------------------------------------------


def note(request, denial: Denial, user) -> None:
    """Keep the denial until the response is made (the first one wins: it is the cause)."""
    if getattr(user, "is_authenticated", False) and not hasattr(request, _NOTED):
        setattr(request, _NOTED, (denial, user))


def note_html_exception(request, error) -> None:
    """For the HTML views: every PermissionDenied is a denial, a 404 only if described."""
    denial = denial_of(error)
    if denial is None and isinstance(error, PermissionDenied):
        denial = Denial(hidden=False)
    if denial is not None:
        note(request, denial, getattr(request, "user", None))


def note_api_exception(error, context) -> None:
    """For the API's exception handler, before it turns `error` into a response."""
    from rest_framework import exceptions

    from kpo.domain import ActionNotAllowed, NotVisible

    forbidden = (ActionNotAllowed, PermissionDenied, exceptions.PermissionDenied)
    if not isinstance(error, (NotVisible, Http404, exceptions.NotFound, *forbidden)):
        return
    request, view = context.get("request"), context.get("view")
    try:
        user = request.user if request is not None else None
    except exceptions.APIException:
        return  # the refusal came before authentication, and authentication fails
    if not getattr(user, "is_authenticated", False):
        return
    denial = denial_of(error)
    if denial is None:
        if isinstance(error, NotVisible):
            denial = Denial(hidden=True)
        elif isinstance(error, forbidden):
            denial = _api_target(view, hidden=False) or Denial(hidden=False)
        else:
            denial = _api_hidden_object(view)
    if denial is not None:
        note(request._request, denial, user)


def _api_lookup(view):
    """(model, the id in the URL) of a detail route, or None."""
    kwargs = getattr(view, "kwargs", None) or {}
    key = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
    if not key or key not in kwargs:
        return None
    try:
        model = view.get_queryset().model
    except Exception:
        # Whatever a view's queryset refuses to be built for, this is the error path already:
        # the denial is then recorded without its object rather than turned into a 500.
        return None
    return model, kwargs[key]


def _api_target(view, *, hidden: bool) -> Denial | None:
    lookup = _api_lookup(view)
    if lookup is None:
        return None
    model, pk = lookup
    return Denial(hidden=hidden, model=model, target_id=str(pk)[:64])


def _api_hidden_object(view) -> Denial | None:
    """A detail route's 404 is a denial when the object exists but is outside the view's
    restricted queryset (a 404 from elsewhere in a view about a visible object is not)."""
    lookup = _api_lookup(view)
    if lookup is None:
        return None
    model, pk = lookup
    error = hidden_object(model, {"pk": pk})
    denial = denial_of(error)
    if denial is None:
        return None
    try:
        if view.get_queryset().filter(pk=pk).exists():
            return None
    except (ValueError, TypeError, ValidationError):
        return None
    return denial


# -- writing it ------------------------------------------------------------------------------


def record_noted(request, response) -> None:
    noted = getattr(request, _NOTED, None)
    if noted is None:
        return
    denial, user = noted
    try:
        record(request, denial, user, response.status_code)
    except DatabaseError:
        # The answer must not change because the trail could not be written (a 500 here
        # would tell a hidden object from a missing one); the failure is still reported.
        logger.exception("Could not record an access denial for %s", request.path)


def record(request, denial: Denial, user, status: int):
    from django.contrib.contenttypes.models import ContentType

    from .context import current_origin
    from .models import AuditEvent

    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match else ""
    origin = current_origin()
    return AuditEvent.objects.create(
        actor=user,
        actor_repr=user.get_username(),
        action=DENIED,
        target_type=ContentType.objects.get_for_model(denial.model) if denial.model else None,
        target_id=denial.target_id,
        target_repr="" if denial.hidden else denial.target_repr,
        engagement_id=denial.engagement_id,
        client_id=user.client_id,
        provider_id=user.provider_id,
        changes={
            "attempted": denial.attempted or view_name,
            "view": view_name,
            "method": request.method,
            "path": request.path[:_PATH_LIMIT],
            "status": status,
        },
        ip=origin.ip,
        user_agent=origin.user_agent,
    )
