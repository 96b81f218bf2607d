"""The knowledge library page: full-text search over the accepted deliverables the user may
see, with engagement, provider, acceptance date and score; paginated; an empty state that
says what to try; never another tenant's work; the same queries however many results."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from deliverables import services
from tests.support import force_login_verified

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"
GOOD = {"accuracy": 5, "completeness": 4, "insight": 4, "relevance": 5, "presentation": 4}
URL = reverse("deliverables:knowledge")

EVERYONE = (
    "staff",
    "alpha.admin",
    "alpha.manager",
    "alpha.viewer",
    "northwind.manager",
    "bio.admin",
    "bio.lead",
    "bio.analyst",
    "bio.qa",
    "bio.writer",
    "ledger.admin",
    "ledger.analyst",
)
# Who may see each demo engagement's accepted work.
SEES_PHASE_TWO = {
    "staff",
    "alpha.admin",
    "alpha.manager",
    "alpha.viewer",
    "bio.admin",
    "bio.lead",
    "bio.analyst",
    "bio.qa",
}
SEES_EU_BANKS = {"staff", "northwind.manager", "ledger.admin", "ledger.analyst"}


@pytest.fixture
def browser(users):
    def sign_in(username):
        client = Client()
        force_login_verified(client, users[username])
        return client

    return sign_in


def html(response):
    assert response.status_code == 200
    return response.content.decode()


def search(client, q="", **params):
    return html(client.get(URL, {"q": q, **params} if q else params))


def accept_new_deliverables(users, engagement, count, title="Biomarker appendix"):
    """Plan, work on, pass and accept `count` deliverables through the services."""
    manager, analyst, qa = users["alpha.manager"], users["bio.analyst"], users["bio.qa"]
    for number in range(count):
        deliverable = services.deliverable_plan(
            actor=manager,
            engagement=engagement,
            title=f"{title} {number:02}",
            description="Survival analysis of the biomarker-positive subgroup.",
            due_at=timezone.now() + timedelta(days=10),
        )
        services.deliverable_start(actor=analyst, deliverable=deliverable)
        services.deliverable_submit(
            actor=analyst,
            deliverable=deliverable,
            file=SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"),
        )
        services.deliverable_qa(actor=qa, deliverable=deliverable, decision="pass")
        services.deliverable_review(
            actor=manager, deliverable=deliverable, decision="accept", scores=GOOD
        )


@pytest.mark.parametrize("username", EVERYONE)
def test_each_role_finds_only_the_accepted_work_it_may_see(browser, username):
    client = browser(username)
    everything = search(client)
    assert ("Statistical analysis plan" in everything) == (username in SEES_PHASE_TWO)
    assert ("Sector initiation report" in everything) == (username in SEES_EU_BANKS)
    # Open work is not in the library.
    assert "Interim efficacy report" not in everything
    assert "Q4 earnings model" not in everything
    assert not re.search(r"<script\b(?![^>]*\bsrc=)", everything)
    assert not re.search(r"<[^>]+\sstyle\s*=", everything)


def test_a_manager_finds_the_statistical_analysis_plan_and_never_northwinds_report(browser):
    client = browser("alpha.manager")
    page = search(client, "statistical analysis")
    assert "Statistical analysis plan" in page
    assert "Sector initiation report" not in page
    assert "Northwind" not in page
    assert "Ledger" not in page
    # Even a search for Northwind's own words finds nothing of theirs.
    page = search(client, "sector initiation")
    assert "Sector initiation report" not in page
    assert "Nothing accepted matches" in page


def test_each_result_shows_engagement_provider_acceptance_and_score_with_links(
    browser, deliverable
):
    plan = deliverable("Statistical analysis plan")
    page = search(browser("alpha.manager"), "statistical")
    assert f'href="{reverse("deliverables:detail", args=[plan.pk])}"' in page
    assert plan.engagement.reference in page
    assert "Bio-Analytics Solutions" in page
    assert f'Accepted <time datetime="{plan.accepted_at:%Y-%m-%d}' in page
    assert f"{plan.overall_score}" in page


def test_an_empty_result_says_what_to_try(browser):
    page = search(browser("alpha.manager"), "xylophone quantum")
    assert "Nothing accepted matches “xylophone quantum”" in page
    assert "Try fewer or broader words" in page
    assert 'value="xylophone quantum"' in page


def test_an_empty_library_says_where_the_work_will_come_from(browser):
    page = search(browser("bio.writer"))
    assert "The library is empty for now" in page


def test_the_query_is_escaped(browser):
    page = search(browser("alpha.manager"), '<script>alert("x")</script>')
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page


def test_results_are_paginated_and_keep_the_query(browser, users, engagements):
    accept_new_deliverables(users, engagements.phase_two, 23)
    client = browser("alpha.manager")
    first = search(client, "biomarker")
    assert "23 results for" in first
    assert first.count('class="list-item result"') == 20
    assert "page=2" in first
    assert "q=biomarker" in first.split("page=2")[0].rsplit("href=", 1)[1]
    second = search(client, "biomarker", page=2)
    assert second.count('class="list-item result"') == 3
    # A page past the end shows the last page instead of an error.
    assert search(client, "biomarker", page=99).count('class="list-item result"') == 3


def test_the_page_costs_the_same_queries_however_many_results(browser, users, engagements):
    client = browser("alpha.manager")
    client.get(URL, {"q": "biomarker"})

    def queries(**params):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, params).status_code == 200
        return len(captured)

    empty = queries(q="biomarker")
    accept_new_deliverables(users, engagements.phase_two, 25)
    full = queries(q="biomarker")
    # An empty page skips the query for its rows; a full page is one query more, at any size.
    assert full <= empty + 1
    assert full == queries(q="biomarker", page=2)
    assert queries() <= 8
    assert full <= 8


def test_signed_out_visitors_are_sent_to_sign_in():
    response = Client().get(URL)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
