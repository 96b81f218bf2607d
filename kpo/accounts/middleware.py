"""Two-factor sign-in is required for platform staff and organisation admins.

A signed-in admin whose session has not passed the code step (signed in before it became
required, through the administration site, or with no authenticator app set up yet) may use
the code page, the enrolment page and sign-out, and nothing else: every other page sends them
to the code step, or to the enrolment when they have no app yet, and the API refuses such a
session with 403. Requests with an API token are left to the token: getting one already took
the code.
"""

from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from . import two_factor

# Pages an unverified admin may still open: where the second factor is proved or set up,
# and the way out.
OPEN_VIEWS = frozenset(
    {"accounts:two_factor_verify", "accounts:two_factor_enrol", "accounts:logout"}
)


class TwoFactorRequiredMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        user = request.user
        if match.view_name == "admin:login" and not user.is_authenticated:
            # One sign-in form for everyone, with its two steps and its lockout.
            back = request.GET.get("next") or reverse("admin:index")
            return redirect(f"{reverse('accounts:login')}?{urlencode({'next': back})}")
        if not user.is_authenticated or not two_factor.is_required(user):
            return None
        if user.is_verified() or match.view_name in OPEN_VIEWS:
            return None
        enrolled = two_factor.has_device(user)
        if "api" in match.namespaces:
            if "HTTP_AUTHORIZATION" in request.META:
                return None
            where = "the code step of the sign-in" if enrolled else "the account security page"
            return JsonResponse(
                {
                    "detail": "This session has not completed two-factor sign-in, which your "
                    f"role requires. Finish it on {where} in the browser, or use an API token."
                },
                status=403,
            )
        target = "accounts:two_factor_verify" if enrolled else "accounts:two_factor_enrol"
        url = self._url(target, request)
        if request.htmx:
            return HttpResponseClientRedirect(url)
        return redirect(url)

    @staticmethod
    def _url(name, request):
        # After a GET, come back to the page asked for; after anything else, to the dashboard.
        if request.method != "GET":
            return reverse(name)
        return f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}"
