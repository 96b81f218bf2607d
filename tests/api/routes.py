"""The /api/v1/ routes and the HTTP methods each answers, found from the URL resolver.

Shared by the authorization matrix (tests/api/test_authorization_matrix.py) and the
negative-input sweep (tests/negative/), so that both cover a new endpoint the day it is
added, and both agree on what "every endpoint" means.
"""

import re

from django.urls import URLPattern, URLResolver, get_resolver

API_PREFIX = "api/v1/"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
_IGNORED_METHODS = {"head", "options"}


def _route_text(pattern) -> str:
    text = str(pattern.pattern).removeprefix("^").removesuffix("$").removesuffix(r"\Z")
    return _CONVERTER.sub(r"{\1}", _NAMED_GROUP.sub(r"{\1}", text))


def _walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + _route_text(pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + _route_text(pattern), pattern.callback


def _methods(callback) -> set[str]:
    """The HTTP methods a view answers: a viewset route's `actions` (as far as the viewset's
    `http_method_names` lets them through), an APIView's handlers."""
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    actions = getattr(callback, "actions", None)
    if view_class is None:
        return {"ANY"}  # a plain function view: the table must say how to call it
    allowed = set(view_class.http_method_names) - _IGNORED_METHODS
    if actions is not None:
        return {method.upper() for method in actions if method in allowed}
    return {method.upper() for method in allowed if hasattr(view_class, method)}


def discovered_routes() -> set[tuple[str, str]]:
    """(route under /api/v1/, method) of every API endpoint, `{pk}` standing for the id."""
    found = set()
    for route, callback in _walk(get_resolver().url_patterns):
        if route.startswith(API_PREFIX):
            for method in _methods(callback):
                found.add((route.removeprefix(API_PREFIX), method))
    return found


def discovered_write_routes() -> set[tuple[str, str]]:
    """The endpoints that may change something: every POST, PUT, PATCH and DELETE."""
    return {(route, method) for route, method in discovered_routes() if method in WRITE_METHODS}
