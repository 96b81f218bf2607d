"""Every kind of response the app sends carries the security headers: pages, forms, htmx
fragments, redirects, error pages, JSON, files, CSV, static assets and the API docs."""

import re

import pytest
from django.urls import reverse

from deliverables.models import Submission
from engagements.models import Document

PRODUCTION_HSTS = 31536000


@pytest.fixture
def production_transport(settings):
    """The transport settings production runs with (see kpo/settings.py), on HTTPS."""
    settings.SECURE_HSTS_SECONDS = PRODUCTION_HSTS
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    # Static files straight from the source folders: the tests run no collectstatic.
    settings.WHITENOISE_USE_FINDERS = True


# (name, username or None for anonymous, path builder, expected status)
RESPONSES = [
    ("sign-in page", None, lambda w: reverse("accounts:login"), 200),
    ("redirect to sign-in", None, lambda w: reverse("home"), 302),
    ("dashboard", "alpha.manager", lambda w: reverse("home"), 200),
    ("list page", "alpha.manager", lambda w: reverse("engagements:list"), 200),
    ("form page", "alpha.manager", lambda w: reverse("engagements:create"), 200),
    (
        "detail page",
        "alpha.manager",
        lambda w: reverse("engagements:detail", args=[w["engagement"]]),
        200,
    ),
    ("html 404", "alpha.manager", lambda w: reverse("engagements:detail", args=[10**9]), 404),
    (
        "html 403",
        "alpha.viewer",
        lambda w: reverse("engagements:detail", args=[w["engagement"]]) + "?tab=activity",
        403,
    ),
    (
        "csv export",
        "alpha.manager",
        lambda w: reverse("engagements:audit_csv", args=[w["engagement"]]),
        200,
    ),
    (
        "document download",
        "alpha.manager",
        lambda w: reverse("engagements:document_download", args=[w["document"]]),
        200,
    ),
    (
        "submission download",
        "alpha.manager",
        lambda w: reverse("deliverables:submission_download", args=[w["submission"]]),
        200,
    ),
    ("api list", "alpha.manager", lambda w: "/api/v1/engagements/", 200),
    ("api 404", "alpha.manager", lambda w: "/api/v1/engagements/1000000000/", 404),
    ("api 401", None, lambda w: "/api/v1/engagements/", 401),
    (
        "api file",
        "alpha.manager",
        lambda w: f"/api/v1/submissions/{w['submission']}/download/",
        200,
    ),
    ("api schema", "alpha.manager", lambda w: "/api/schema/", 200),
    ("api docs", "alpha.manager", lambda w: "/api/docs/", 200),
    ("static asset", None, lambda w: "/static/css/app.css", 200),
    ("admin sign-in redirect", None, lambda w: "/admin/login/", 302),
]


@pytest.fixture
def world(engagements):
    engagement = engagements.phase_two
    return {
        "engagement": engagement.pk,
        "document": Document.objects.filter(engagement=engagement).values_list("pk", flat=True)[0],
        "submission": Submission.objects.filter(deliverable__engagement=engagement)
        .order_by("pk")
        .values_list("pk", flat=True)[0],
    }


def _fetch(client, users, world, username, path_for):
    if username:
        client.force_login(users[username])
    return client.get(path_for(world), secure=True)


@pytest.mark.parametrize(
    ("name", "username", "path_for", "status"), RESPONSES, ids=[r[0] for r in RESPONSES]
)
def test_every_kind_of_response_carries_the_security_headers(
    name, username, path_for, status, client, users, world, settings, production_transport
):
    response = _fetch(client, users, world, username, path_for)
    assert response.status_code == status

    policy = response["Content-Security-Policy"]
    directives = dict(
        (part.split()[0], part.split()[1:]) for part in policy.split(";") if part.strip()
    )
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy

    assert response["Strict-Transport-Security"] == (
        f"max-age={PRODUCTION_HSTS}; includeSubDomains; preload"
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(rb"<style\b|\sstyle=", re.IGNORECASE)


NOT_HTML = {"csv export", "document download", "submission download", "static asset"}
HTML_PAGES = [
    (n, u, p)
    for n, u, p, s in RESPONSES
    if s == 200 and not n.startswith("api ") and n not in NOT_HTML
]
HTML_PAGES.append(next((n, u, p) for n, u, p, s in RESPONSES if n == "api docs"))


@pytest.mark.parametrize(
    ("name", "username", "path_for"), HTML_PAGES, ids=[p[0] for p in HTML_PAGES]
)
def test_no_page_needs_inline_script_or_style(name, username, path_for, client, users, world):
    """What the policy forbids, the pages must not rely on."""
    response = _fetch(client, users, world, username, path_for)
    assert response["Content-Type"].startswith("text/html")
    body = response.content
    assert not INLINE_SCRIPT.search(body), INLINE_SCRIPT.search(body).group(0)
    assert not INLINE_STYLE.search(body), INLINE_STYLE.search(body).group(0)


def test_hsts_is_sent_only_over_https(client, production_transport):
    response = client.get(reverse("accounts:login"))
    assert "Strict-Transport-Security" not in response
