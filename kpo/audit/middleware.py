import ipaddress

from django.conf import settings

from . import denials
from .context import RequestOrigin, reset_origin, set_origin


def client_ip(request) -> str | None:
    """The caller's address; behind a trusted proxy, the address it reports.

    The forwarded value is a header anyone can write: what is not an address is ignored
    rather than stored (the database would refuse it, failing the whole request)."""
    if getattr(settings, "TRUSTED_PROXY_COUNT", 0):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= settings.TRUSTED_PROXY_COUNT:
            reported = _address(hops[-settings.TRUSTED_PROXY_COUNT])
            if reported:
                return reported
    return _address(request.META.get("REMOTE_ADDR", ""))


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


class RequestContextMiddleware:
    """Where the request comes from, for every event it causes; and the access denial it
    met (`denials`), written once the response is made, outside the view's transactions."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        origin = RequestOrigin(
            ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:255]
        )
        token = set_origin(origin)
        try:
            response = self.get_response(request)
            denials.record_noted(request, response)
            return response
        finally:
            reset_origin(token)

    def process_exception(self, request, exception):
        # The HTML views' refusals; the API's are noted by its exception handler.
        denials.note_html_exception(request, exception)
