"""API.md, Conventions: token authentication, the browser session (with CSRF), and 401 for a
request that brings no credentials."""

import re

import pytest
from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import get_random_string
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from deliverables.models import Comment
from kpo.demo import DEMO_PASSWORD

TOKEN_URL = "/api/v1/auth/token/"

# One safe and one unsafe request per kind of resource; none of them may answer anonymously.
ANONYMOUS_REQUESTS = [
    ("get", "/api/v1/service-lines/"),
    ("get", "/api/v1/clients/"),
    ("get", "/api/v1/providers/"),
    ("get", "/api/v1/vendor-approvals/"),
    ("get", "/api/v1/teams/"),
    ("get", "/api/v1/engagements/"),
    ("post", "/api/v1/engagements/"),
    ("get", "/api/v1/documents/"),
    ("get", "/api/v1/deliverables/"),
    ("get", "/api/v1/notifications/"),
    ("get", "/api/v1/knowledge/"),
    ("get", "/api/v1/webhooks/"),
    ("post", "/api/v1/webhooks/"),
]


def token_client(key, **kwargs):
    client = APIClient(**kwargs)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_valid_credentials_get_a_token(users, cheap_password):
    cheap_password(users.alpha_manager)

    response = APIClient().post(
        TOKEN_URL, {"username": "alpha.manager", "password": DEMO_PASSWORD}, format="json"
    )

    assert response.status_code == 200
    assert response.json() == {"token": Token.objects.get(user=users.alpha_manager).key}


@pytest.mark.parametrize(
    "username, password",
    [("alpha.manager", "not-the-password"), ("nobody.here", DEMO_PASSWORD), ("alpha.manager", "")],
)
def test_wrong_credentials_answer_400_without_a_token(users, cheap_password, username, password):
    cheap_password(users.alpha_manager)

    response = APIClient().post(
        TOKEN_URL, {"username": username, "password": password}, format="json"
    )

    assert response.status_code == 400
    assert "token" not in response.json()
    assert not Token.objects.filter(user=users.alpha_manager).exists()


def test_the_token_authenticates_requests_as_its_user(users, cheap_password):
    cheap_password(users.northwind_manager)
    key = (
        APIClient()
        .post(TOKEN_URL, {"username": "northwind.manager", "password": DEMO_PASSWORD})
        .json()["token"]
    )

    response = token_client(key).get("/api/v1/clients/")

    assert response.status_code == 200
    assert [c["slug"] for c in response.json()["results"]] == ["northwind"]


def test_asking_twice_returns_the_same_token(users, cheap_password):
    cheap_password(users.bio_analyst)
    credentials = {"username": "bio.analyst", "password": DEMO_PASSWORD}

    first = APIClient().post(TOKEN_URL, credentials).json()["token"]
    second = APIClient().post(TOKEN_URL, credentials).json()["token"]

    assert first == second


def test_an_unknown_token_answers_401(db):
    response = token_client("0" * 40).get("/api/v1/engagements/")

    assert response.status_code == 401


def test_a_token_of_a_deactivated_user_answers_401(users):
    user = users.alpha_manager
    token = Token.objects.create(user=user)
    user.is_active = False
    user.save(update_fields=["is_active"])

    assert token_client(token.key).get("/api/v1/engagements/").status_code == 401


@pytest.mark.parametrize("method, url", ANONYMOUS_REQUESTS)
def test_a_request_without_credentials_answers_401(db, method, url):
    response = getattr(APIClient(), method)(url, {}, format="json")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Token")


def test_the_schema_and_docs_need_no_credentials_nor_any_external_host(db):
    client = APIClient()

    schema = client.get("/api/schema/")
    docs = client.get("/api/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/engagements/" in schema.content
    assert docs.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.content.decode())
    # The page's own set-up script comes from the docs view itself (?script=), not inline.
    assert assets and all(asset.startswith(("/static/", "/api/docs/?script")) for asset in assets)
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert b"/api/schema/" in script.content


# The browser session: reads need only the cookie, writes also need the CSRF token.


@pytest.fixture
def browser(users, cheap_password):
    """A logged-in browser session of alpha.manager that enforces CSRF as a browser would."""
    cheap_password(users.alpha_manager)
    client = APIClient(enforce_csrf_checks=True)
    # django-axes needs the request to throttle on; the test client's login has none.
    assert client.login(request=HttpRequest(), username="alpha.manager", password=DEMO_PASSWORD)
    return client


def comment_url(deliverable):
    return f"/api/v1/deliverables/{deliverable.pk}/comments/"


def test_the_session_authenticates_reads(browser, engagements):
    response = browser.get("/api/v1/engagements/")

    assert response.status_code == 200
    assert engagements.phase_two.pk in {e["id"] for e in response.json()["results"]}


def test_a_session_write_without_the_csrf_token_is_refused(browser, deliverable):
    memo = deliverable("Safety signal memo")

    response = browser.post(comment_url(memo), {"body": "Forged?"}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not Comment.objects.filter(deliverable=memo, body="Forged?").exists()


def test_a_session_write_with_a_wrong_csrf_token_is_refused(browser, deliverable):
    memo = deliverable("Safety signal memo")
    browser.cookies[settings.CSRF_COOKIE_NAME] = get_random_string(32)

    response = browser.post(
        comment_url(memo),
        {"body": "Forged?"},
        format="json",
        HTTP_X_CSRFTOKEN=get_random_string(32),
    )

    assert response.status_code == 403
    assert not Comment.objects.filter(deliverable=memo, body="Forged?").exists()


def test_a_session_write_with_the_csrf_token_is_accepted(browser, deliverable):
    memo = deliverable("Safety signal memo")
    secret = get_random_string(32)
    browser.cookies[settings.CSRF_COOKIE_NAME] = secret

    response = browser.post(
        comment_url(memo), {"body": "From the browser."}, format="json", HTTP_X_CSRFTOKEN=secret
    )

    assert response.status_code == 201
    assert Comment.objects.filter(deliverable=memo, body="From the browser.").exists()


def test_a_token_request_needs_no_csrf_token(users, deliverable):
    memo = deliverable("Safety signal memo")
    key = Token.objects.create(user=users.alpha_manager).key
    client = token_client(key, enforce_csrf_checks=True)

    response = client.post(comment_url(memo), {"body": "From an integration."}, format="json")

    assert response.status_code == 201
