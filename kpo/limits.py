"""A ceiling on request bodies, enforced before anything reads them."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render

from kpo.files import format_size


class RequestBodyLimitMiddleware:
    """Refuse a body whose declared length is over REQUEST_MAX_BYTES with 413.

    Django reads no more than Content-Length, and treats a body without one as empty, so
    the declared length is the whole story: nothing larger is ever read or spooled to disk.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.REQUEST_MAX_BYTES:
            return too_large(request)
        return self.get_response(request)


def too_large(request):
    message = f"The request is larger than the {format_size(settings.REQUEST_MAX_BYTES)} limit."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=413)
    return render(request, "413.html", {"message": message}, status=413)
