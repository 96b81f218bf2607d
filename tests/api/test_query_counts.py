"""Every API list costs the same number of SQL queries whatever the page size (DESIGN.md,
"Lists"), and the provider scorecard does not grow with the number of deliverables.

Each list is first filled through the services (as the demo users would fill it) until it
holds more than 100 rows where that is feasible, then read at `page_size=5` and at
`page_size=100`. The counts are taken with token-free `force_authenticate` clients, so they
are the queries of the view itself (a token adds one lookup per request).

Measured counts per request (the same on SQLite and PostgreSQL, and the same at both page
sizes); `QUERIES` below holds them, and each is also that list's upper bound:

| list                             | filled with                           | as                | q |
|----------------------------------|---------------------------------------|-------------------|---|
| service-lines/                   | the fixed catalogue (10 rows)         | alpha.manager     | 2 |
| clients/                         | 110 clients (ORM: no service for it)  | staff             | 2 |
| providers/                       | 110 providers (ORM, likewise)         | alpha.manager     | 3 |
| vendor-approvals/                | 110 approvals                         | alpha.admin       | 2 |
| teams/                           | 110 teams, each with lead + 2 members | bio.admin         | 3 |
| engagements/                     | 110 drafts                            | alpha.manager     | 3 |
| documents/                       | 110 uploads to Phase II               | alpha.manager     | 2 |
| deliverables/                    | 120 planned in Phase II               | alpha.manager     | 2 |
| notifications/ (c)               | 110 comment notifications             | alpha.manager     | 1 |
| knowledge/                       | 105 accepted in EU banks              | northwind.manager | 2 |
| webhooks/                        | 110 endpoints                         | alpha.admin       | 2 |
| webhooks/{pk}/deliveries/ (c)    | 110 deliveries                        | alpha.admin       | 2 |
| engagements/{pk}/audit/ (c)      | 120 plans + the demo's events         | alpha.manager     | 4 |
| deliverables/{pk}/submissions/   | 105 versions (Q4 earnings model)      | ledger.analyst    | 3 |
| deliverables/{pk}/reviews/       | 105 client reviews of them            | northwind.manager | 3 |
| deliverables/{pk}/comments/      | 110 comments (interim report)         | alpha.manager     | 3 |
| providers/{pk}/scorecard/        | + 50 planned and accepted             | alpha.admin       | 5 |

(c) cursor pagination: no count query.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deliverables import services as deliverable_services
from engagements import services as engagement_services
from engagements.models import Client
from kpo.notifications import services as notification_services
from vendors import services as vendor_services
from vendors.models import Provider, ServiceLine

API = "/api/v1/"
GOOD_SCORES = {"accuracy": 5, "completeness": 4, "insight": 4, "relevance": 5, "presentation": 4}


def pdf(name="version.pdf"):
    return SimpleUploadedFile(
        name, b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n", content_type="application/pdf"
    )


# -- filling the lists, through the services ---------------------------------------------


def _providers(world, count=110):
    """There is no service that registers providers (platform staff do it in the admin), so
    these rows are written directly; each offers two service lines, like the demo firms."""
    lines = list(ServiceLine.objects.order_by("slug")[:2])
    for number in range(count):
        provider = Provider.objects.create(
            name=f"Provider {number:03}", slug=f"provider-{number:03}", country="DE"
        )
        provider.service_lines.set(lines)


def fill_clients(world):
    """Staff see every client. Clients, too, are only ever made by platform staff."""
    Client.objects.bulk_create(
        Client(name=f"Client {number:03}", slug=f"client-{number:03}") for number in range(110)
    )


def fill_providers(world):
    _providers(world)


def fill_vendor_approvals(world):
    _providers(world)
    admin = world.user("alpha.admin")
    for provider in Provider.objects.filter(slug__startswith="provider-"):
        vendor_services.vendor_approval_create(
            actor=admin, provider=provider, status="pending", risk_tier="medium"
        )


def fill_teams(world):
    admin, lead = world.user("bio.admin"), world.user("bio.lead")
    members = [world.user("bio.analyst"), world.user("bio.qa")]
    for number in range(110):
        vendor_services.team_create(
            actor=admin, name=f"Pod {number:03}", lead=lead, members=members
        )


def fill_engagements(world):
    manager = world.user("alpha.manager")
    bio, line = world.provider("bio-analytics"), world.service_line("clinical_data_analysis")
    for number in range(110):
        engagement_services.engagement_create(
            actor=manager, provider=bio, service_line=line, title=f"Study {number:03}"
        )


def fill_documents(world):
    manager, phase_two = world.user("alpha.manager"), world.phase_two
    for number in range(110):
        engagement_services.document_upload(
            actor=manager, engagement=phase_two, file=pdf(f"listing {number:03}.pdf")
        )


def plan(world, engagement, count, *, actor="alpha.manager", assignee=None):
    actor = world.user(actor)
    return [
        deliverable_services.deliverable_plan(
            actor=actor,
            engagement=engagement,
            title=f"Table set {number:03}",
            due_at=world.due_at(),
            assignee=assignee,
        )
        for number in range(count)
    ]


def fill_deliverables(world):
    plan(world, world.phase_two, 120)


def fill_audit(world):
    plan(world, world.phase_two, 120)
    return world.phase_two


def fill_comments(world):
    interim = world.deliverable("Interim efficacy report")
    authors = [world.user("bio.analyst"), world.user("alpha.manager")]
    for number in range(110):
        deliverable_services.comment_add(
            actor=authors[number % 2], deliverable=interim, body=f"Point {number}."
        )
    return interim


def fill_notifications(world):
    """Every comment of the analyst notifies the engagement's manager, alpha.manager."""
    interim = world.deliverable("Interim efficacy report")
    analyst = world.user("bio.analyst")
    for number in range(110):
        deliverable_services.comment_add(actor=analyst, deliverable=interim, body=f"Q{number}?")


def fill_versions(world):
    """105 rounds on the EU banks model (no provider QA there): the analyst submits a
    version, the client asks for changes."""
    model = world.deliverable("Q4 earnings model")
    analyst, manager = world.user("ledger.analyst"), world.user("northwind.manager")
    for number in range(105):
        deliverable_services.deliverable_submit(
            actor=analyst, deliverable=model, file=pdf(f"model v{number + 1}.pdf")
        )
        deliverable_services.deliverable_review(
            actor=manager, deliverable=model, decision="request_changes", comment="Again."
        )
    return model


def accept_new_deliverables(world, engagement, count, *, manager, analyst, qa=None):
    """Plan `count` deliverables and take each one through to acceptance."""
    manager, analyst = world.user(manager), world.user(analyst)
    qa = world.user(qa) if qa else None
    for deliverable in plan(world, engagement, count, actor=manager.username, assignee=analyst):
        deliverable_services.deliverable_start(actor=analyst, deliverable=deliverable)
        deliverable_services.deliverable_submit(actor=analyst, deliverable=deliverable, file=pdf())
        if qa is not None:
            deliverable_services.deliverable_qa(actor=qa, deliverable=deliverable, decision="pass")
        deliverable_services.deliverable_review(
            actor=manager, deliverable=deliverable, decision="accept", scores=GOOD_SCORES
        )


def fill_knowledge(world):
    accept_new_deliverables(
        world,
        world.eu_banks,
        105,
        manager="northwind.manager",
        analyst="ledger.analyst",
    )


def fill_webhooks(world):
    admin = world.user("alpha.admin")
    for number in range(110):
        notification_services.webhook_create(
            actor=admin,
            url=f"https://hooks.example.com/{number}",
            events=["deliverable_accepted"],
            secret="a-long-enough-webhook-secret",
        )


def fill_deliveries(world):
    """Alpha's endpoint hears of every comment told to Alpha's people: 110 deliveries."""
    webhook = notification_services.webhook_create(
        actor=world.user("alpha.admin"),
        url="https://hooks.example.com/comments",
        events=["comment_added"],
        secret="a-long-enough-webhook-secret",
    )
    fill_notifications(world)
    return webhook


# -- the lists ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Listing:
    route: str
    username: str
    fill: Any  # (world) -> the object whose id fills {pk}, or None
    rows: int  # rows in the list once filled


LISTINGS = [
    Listing("service-lines/", "alpha.manager", None, 10),  # a fixed catalogue
    Listing("clients/", "staff", fill_clients, 112),
    Listing("providers/", "alpha.manager", fill_providers, 113),
    Listing("vendor-approvals/", "alpha.admin", fill_vendor_approvals, 112),
    Listing("teams/", "bio.admin", fill_teams, 112),
    Listing("engagements/", "alpha.manager", fill_engagements, 112),
    Listing("documents/", "alpha.manager", fill_documents, 111),
    Listing("deliverables/", "alpha.manager", fill_deliverables, 125),
    Listing("notifications/", "alpha.manager", fill_notifications, 110),
    Listing("knowledge/", "northwind.manager", fill_knowledge, 106),
    Listing("webhooks/", "alpha.admin", fill_webhooks, 110),
    Listing("webhooks/{pk}/deliveries/", "alpha.admin", fill_deliveries, 110),
    Listing("engagements/{pk}/audit/", "alpha.manager", fill_audit, 100),
    Listing("deliverables/{pk}/submissions/", "ledger.analyst", fill_versions, 105),
    Listing("deliverables/{pk}/reviews/", "northwind.manager", fill_versions, 105),
    Listing("deliverables/{pk}/comments/", "alpha.manager", fill_comments, 111),
]

# Queries per request as measured, and the most each list may take: a change that adds a
# query to a list shows up here first.
QUERIES = {
    "service-lines/": 2,  # count, page
    "clients/": 2,  # count, page
    "providers/": 3,  # count, page, service lines
    "vendor-approvals/": 2,  # count, page (provider joined)
    "teams/": 3,  # count, page, members
    "engagements/": 3,  # count, page (service line joined), teams
    "documents/": 2,  # count, page
    "deliverables/": 2,  # count, page
    "notifications/": 1,  # page (cursor: no count)
    "knowledge/": 2,  # count, page (engagement and provider joined)
    "webhooks/": 2,  # count, page
    "webhooks/{pk}/deliveries/": 2,  # webhook, page (cursor: no count)
    "engagements/{pk}/audit/": 4,  # engagement, its teams, the read_audit check, page
    "deliverables/{pk}/submissions/": 3,  # deliverable, count, page
    "deliverables/{pk}/reviews/": 3,  # deliverable, count, page
    "deliverables/{pk}/comments/": 3,  # deliverable, count, page
}
SCORECARD_QUERIES = 5  # provider, its service lines, engagements, deliverable and review sums


def _get(client, url, page_size):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, {"page_size": page_size})
    assert response.status_code == 200, response.content[:500]
    payload = response.json()
    rows = payload["results"] if isinstance(payload, dict) else payload
    return len(queries), len(rows)


def test_every_list_is_measured():
    assert {listing.route for listing in LISTINGS} == set(QUERIES)


@pytest.mark.parametrize("listing", [pytest.param(x, id=x.route) for x in LISTINGS])
def test_a_list_costs_the_same_queries_whatever_the_page_size(
    listing, world, api, django_assert_max_num_queries
):
    target = listing.fill(world) if listing.fill else None
    url = API + listing.route.format(pk=target.pk if target else None)
    client = api(listing.username)
    client.get(url, {"page_size": 1})  # per-process caches (content types) warm up first

    small_queries, small_rows = _get(client, url, 5)
    large_queries, large_rows = _get(client, url, 100)

    # The two pages really differ, so comparing their costs means something.
    assert (small_rows, large_rows) == (5, min(100, listing.rows))
    assert small_queries == large_queries, (
        f"{listing.route}: {small_queries} queries for a page of {small_rows}, "
        f"{large_queries} for a page of {large_rows}"
    )
    with django_assert_max_num_queries(QUERIES[listing.route]):
        client.get(url, {"page_size": 100})


NESTED = ["submissions", "reviews", "comments"]


@pytest.mark.parametrize("nested", NESTED)
def test_the_nested_lists_of_a_deliverable_are_paginated(nested, world, api):
    """API.md: "Lists are paginated: {count, next, previous, results}, ?page= and
    ?page_size=" -- a deliverable's versions, reviews and comments are lists too."""
    model = world.deliverable("Q4 earnings model")
    analyst, manager = world.user("ledger.analyst"), world.user("northwind.manager")
    for number in range(6):
        deliverable_services.deliverable_submit(
            actor=analyst, deliverable=model, file=pdf(f"model v{number + 1}.pdf")
        )
        deliverable_services.deliverable_review(
            actor=manager, deliverable=model, decision="request_changes", comment="Again."
        )
        deliverable_services.comment_add(actor=manager, deliverable=model, body=f"Round {number}")
    response = api("northwind.manager").get(
        f"{API}deliverables/{model.pk}/{nested}/", {"page_size": 5}
    )
    assert response.status_code == 200
    payload = response.json()
    assert isinstance(payload, dict), f"a bare array of {len(payload)} rows, not a page"
    assert len(payload["results"]) == 5
    assert payload["next"]


def _scorecard(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(queries), response.json()


def test_the_scorecard_costs_the_same_queries_however_much_was_delivered(
    world, api, django_assert_max_num_queries
):
    client = api("alpha.admin")
    url = f"{API}providers/{world.provider('bio-analytics').pk}/scorecard/"
    client.get(url)
    queries_before, before = _scorecard(client, url)

    # 50 more deliverables, in a second engagement, planned and taken through to acceptance.
    rwe = world.staff_rwe()
    engagement_services.engagement_accept(actor=world.user("bio.admin"), engagement=rwe)
    accept_new_deliverables(
        world, rwe, 50, manager="alpha.manager", analyst="bio.analyst", qa="bio.qa"
    )
    queries_after, after = _scorecard(client, url)

    assert after["deliverables_delivered"] == before["deliverables_delivered"] + 50
    (rwe_row,) = [row for row in after["by_engagement"] if row["engagement"] == rwe.pk]
    assert rwe_row["deliverables_delivered"] == 50
    assert queries_after == queries_before
    with django_assert_max_num_queries(SCORECARD_QUERIES):
        client.get(url)
