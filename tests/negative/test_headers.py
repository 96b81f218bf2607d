"""Request headers are input too: every audited write and every sign-in records where it came
from (the address, behind a trusted proxy the one it reports in X-Forwarded-For, and the
User-Agent). A forged or garbled header must never turn a request into a 500, and what is
recorded must be an address or nothing.

The shared audit path is exercised through one write of each kind (API and page) and both
ways of signing in; the other write endpoints record their origin the same way.
"""

import ipaddress

import pytest
from django.urls import reverse

from kpo.audit.models import AuditEvent
from kpo.demo import DEMO_PASSWORD
from tests.negative.support import explain, record

FORWARDED_FOR = [
    "not-an-ip",
    "999.1.1.1",
    "1.2.3.4, <script>alert(1)</script>",
    "1.2.3.4," + "x" * 300,
    "::1%eth0",
    "",
    " , ,",
    "\x00",
]
USER_AGENT = "Mozilla/5.0 " + "u" * 100_000


def _writes(world, api, browser):
    """(label, send) for each kind of request that records its origin."""
    memo = world.deliverable("Interim efficacy report")
    api_client, page_client, visitor = api("alpha.manager"), browser("alpha.manager"), browser()
    return [
        (
            "a comment through the API",
            lambda **meta: api_client.post(
                f"/api/v1/deliverables/{memo.pk}/comments/", {"body": "Noted."}, **meta
            ),
        ),
        (
            "a comment through the page",
            lambda **meta: page_client.post(
                reverse("deliverables:comment", args=[memo.pk]), {"body": "Noted."}, **meta
            ),
        ),
        (
            "a failed sign-in",
            lambda **meta: visitor.post(
                reverse("accounts:login"),
                {"username": "alpha.manager", "password": "not-the-password"},
                **meta,
            ),
        ),
        (
            "an API token",
            lambda **meta: api(None).post(
                "/api/v1/auth/token/",
                {"username": "alpha.manager", "password": DEMO_PASSWORD},
                **meta,
            ),
        ),
    ]


def _recorded_addresses(since_id):
    return list(AuditEvent.objects.filter(pk__gt=since_id).values_list("ip", flat=True))


@pytest.mark.parametrize("forwarded_for", FORWARDED_FOR, ids=lambda value: repr(value)[:24])
def test_a_garbled_forwarded_address_is_never_a_server_error(
    forwarded_for, world, api, browser, cheap_password, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    cheap_password(world.user("alpha.manager"))
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for label, send in _writes(world, api, browser):
        response = send(HTTP_X_FORWARDED_FOR=forwarded_for, REMOTE_ADDR="10.0.0.9")
        record("headers")
        assert response.status_code < 500, f"{label}: {explain(response)}"
    for address in _recorded_addresses(last):
        if address is not None:
            ipaddress.ip_address(address)


def test_a_huge_user_agent_is_never_a_server_error(world, api, browser, cheap_password):
    cheap_password(world.user("alpha.manager"))
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for label, send in _writes(world, api, browser):
        response = send(HTTP_USER_AGENT=USER_AGENT)
        record("headers")
        assert response.status_code < 500, f"{label}: {explain(response)}"
    agents = AuditEvent.objects.filter(pk__gt=last).values_list("user_agent", flat=True)
    assert agents, "the writes were not audited"
    assert all(len(agent) <= 255 for agent in agents)


def planned_header_inputs() -> int:
    return (len(FORWARDED_FOR) + 1) * 4
