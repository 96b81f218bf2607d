"""A database that is briefly away — restarting, failing over, refusing connections while it
starts — is an outage of the service, not a bug in the request: the answer is a 503 that
tells the client to try again shortly, never a 500. The next request connects afresh
(`CONN_HEALTH_CHECKS` drops a persistent connection that died), so nothing needs a restart
once the database is back."""

import logging
import sys

from django.conf import settings
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
UNAVAILABLE = "The service is temporarily unavailable. Please try again in a few seconds."
# What the driver raises when the server cannot be reached or drops the connection (DB-API:
# errors of the database's operation, not of the request).
DATABASE_AWAY = (OperationalError, InterfaceError)


def service_unavailable(request) -> HttpResponse:
    """503 with Retry-After: JSON for the API, a short page otherwise. The page is rendered
    without the request's context processors, which would query the database again."""
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": UNAVAILABLE}, status=503)
    else:
        response = HttpResponse(render_to_string("503.html", {"message": UNAVAILABLE}), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _note_database_away(sender, request=None, **kwargs):
    # Sent while Django handles an exception that escaped a view or a middleware, so the
    # exception is the one being handled.
    if request is not None and isinstance(sys.exc_info()[1], DATABASE_AWAY):
        request.database_away = True


class DatabaseUnavailableMiddleware:
    """Turns the 500 of a request that failed because the database is away into a 503.

    Middleware's process_exception sees only exceptions of the view; the first query of a
    request is often earlier, in another middleware (the lazy user of the session, the
    two-factor check). Django turns any of those into a 500 response before it gets back
    here, so the exception is noted on the request when Django signals it, and the 500 is
    replaced on the way out. Placed inside the security and CSP middleware so the 503 keeps
    their headers. With DEBUG on, Django's debug page is kept: it says more."""

    def __init__(self, get_response):
        self.get_response = get_response
        got_request_exception.connect(_note_database_away, dispatch_uid="kpo.resilience")

    def __call__(self, request):
        response = self.get_response(request)
        away = response.status_code == 500 and getattr(request, "database_away", False)
        if away and not settings.DEBUG:
            logger.warning(
                "Database unavailable: %s %s answered 503.", request.method, request.path
            )
            return service_unavailable(request)
        return response
