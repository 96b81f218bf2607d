"""Shared plumbing for the HTML views: the same access answers as the API (404 for what the
user may not see, 403 for what they may see but not do) and domain errors as messages."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme

from kpo.audit import denials
from kpo.domain import ActionNotAllowed, BusinessRuleViolation, InvalidTransition, NotVisible


def visible_or_404(queryset, **lookup):
    """The one object of an already-restricted queryset, or 404 (missing and foreign alike;
    only the audit trail tells them apart)."""
    obj = queryset.filter(**lookup).first()
    if obj is None:
        raise denials.hidden_object(queryset.model, lookup)
    return obj


def back_url(request, fallback: str) -> str:
    """Where to send the user after an action: the page they came from, if it is ours."""
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def apply_form_error(form, error: BusinessRuleViolation) -> None:
    """Show a service's validation error next to its field when the form has that field."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


def domain_action(view):
    """For POST-only action views: a stale page that offers an action no longer allowed gets a
    clear message instead of an error page; invisible objects 404, forbidden actions 403.
    The view returns the URL to go back to on success."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotVisible as error:
            raise denials.carry(error, Http404("Not found.")) from None
        except ActionNotAllowed as error:
            raise denials.carry(error, PermissionDenied(error.message)) from None
        except (InvalidTransition, BusinessRuleViolation) as error:
            messages.error(request, error.message)
            return redirect(back_url(request, "/"))

    return wrapper
