"""An organisation's whole audit trail, for its admins: a page with filters, a CSV export that
streams, and GET /api/v1/audit/. Each admin gets their own organisation's events and not
one of another tenant's (checked event by event against the database, by rules written
here from shared/DEMO.md, not by the selector under test); other roles get 403; staff see
every organisation's; and every export is itself recorded, with its filters."""

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from engagements.models import Client
from kpo.audit.denials import DENIED
from kpo.audit.models import AuditEvent
from kpo.audit.services import audit_record_many
from vendors import services as vendor_services
from vendors.models import Provider

PHASE_TWO = "Phase II oncology trial analysis"
RWE = "Real-world evidence dashboard"
EU_BANKS = "EU banks equity coverage"
MISSING_ID = 987_654_321


@pytest.fixture
def busy_world(world, browser, api, users):
    """Every tenant at work, and people trying doors that are not theirs: the trail of each
    organisation then has something of everyone's to leave out."""
    eu_banks, phase_two = world.eu_banks, world.phase_two
    # Work on both sides (and a draft of Alpha's with Bio, which Bio may not see yet).
    world.hold(eu_banks)
    world.hold(phase_two)
    world.draft("Companion diagnostics")
    vendor_services.team_create(actor=users.ledger_admin, name="Insurers")
    vendor_services.team_create(actor=users.bio_admin, name="Epidemiology")
    # Sign-ins of every tenant.
    for username in ("northwind.manager", "ledger.analyst", "bio.qa", "alpha.viewer"):
        browser(username)
    # Denials: strangers at Alpha's door, Alpha's and Bio's people at others' doors.
    browser("northwind.manager").get(reverse("engagements:detail", args=[phase_two.pk]))
    api("ledger.analyst").get(f"/api/v1/engagements/{phase_two.pk}/")
    browser("alpha.viewer").get(reverse("engagements:detail", args=[eu_banks.pk]))
    api("bio.writer").get(f"/api/v1/engagements/{eu_banks.pk}/")
    api("bio.writer").get(f"/api/v1/engagements/{phase_two.pk}/")
    api("ledger.analyst").get(f"/api/v1/engagements/{eu_banks.pk}/audit/")
    return world


def csv_rows(response):
    assert response.status_code == 200, response
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def exported_ids(response):
    return [int(row["id"]) for row in csv_rows(response)]


def export(browser, username, **filters):
    return browser(username).get(reverse("audit:export"), filters)


# -- whose events are whose, from shared/DEMO.md -------------------------------------------


def alpha_owns(event) -> bool:
    """Alpha's events: those of its engagements (whoever caused them), its own events outside
    any engagement, and its people's denials wherever they tried."""
    alpha = Client.objects.get(slug="alpha-pharma")
    if event.action == DENIED and event.actor and event.actor.client_id == alpha.pk:
        return True
    if event.engagement_id:
        return event.engagement.client_id == alpha.pk
    return event.client_id == alpha.pk


def bio_owns(event) -> bool:
    """Bio-Analytics' events: those of the engagements it works on and may see (not a draft
    of a client's), its own events outside any engagement but not a client's due diligence
    on it, and its people's denials wherever they tried."""
    bio = Provider.objects.get(slug="bio-analytics")
    if event.action == DENIED and event.actor and event.actor.provider_id == bio.pk:
        return True
    if event.engagement_id:
        return event.engagement.title in (PHASE_TWO, RWE)
    return event.provider_id == bio.pk and event.client_id is None


def ids_where(predicate):
    events = AuditEvent.objects.select_related("engagement", "actor")
    return {event.pk for event in events if predicate(event)}


# -- what each admin gets ---------------------------------------------------------------------


def test_a_client_admins_export_holds_every_event_of_the_client_and_nothing_else(
    busy_world, browser
):
    ids = exported_ids(export(browser, "alpha.admin"))

    assert len(ids) == len(set(ids)), "an event is exported twice"
    # The export's own event is written before the export reads the trail.
    assert set(ids) == ids_where(alpha_owns)
    strangers = AuditEvent.objects.filter(pk__in=ids).exclude(
        Q(engagement__client__slug="alpha-pharma")
        | Q(engagement=None, client__slug="alpha-pharma")
        | Q(action=DENIED, actor__client__slug="alpha-pharma")
    )
    assert list(strangers) == []
    assert not AuditEvent.objects.filter(pk__in=ids, engagement__title=EU_BANKS).exclude(
        action=DENIED, actor__client__slug="alpha-pharma"
    )
    assert not AuditEvent.objects.filter(pk__in=ids, actor__client__slug="northwind").exclude(
        engagement__client__slug="alpha-pharma"
    )
    assert not AuditEvent.objects.filter(
        pk__in=ids, actor__provider__slug="ledger-research"
    ).exclude(engagement__client__slug="alpha-pharma")
    # Newest first, as the trail reads.
    assert ids == sorted(ids, reverse=True)


def test_a_provider_admins_export_holds_every_event_of_the_provider_and_nothing_else(
    busy_world, browser
):
    ids = exported_ids(export(browser, "bio.admin"))

    assert set(ids) == ids_where(bio_owns)
    assert not AuditEvent.objects.filter(pk__in=ids, engagement__title=EU_BANKS).exclude(
        action=DENIED, actor__provider__slug="bio-analytics"
    )
    # A client's draft, and a client's due diligence of the provider, are the client's.
    assert not AuditEvent.objects.filter(pk__in=ids, engagement__title="Companion diagnostics")
    assert not AuditEvent.objects.filter(pk__in=ids, action__startswith="vendor_approval.")
    assert not AuditEvent.objects.filter(pk__in=ids, provider__slug="ledger-research").exclude(
        engagement__title__in=(PHASE_TWO, RWE)
    )


def test_the_other_tenant_pairs_admin_gets_only_their_own(busy_world, browser):
    ids = set(exported_ids(export(browser, "ledger.admin")))

    assert ids
    assert not AuditEvent.objects.filter(
        pk__in=ids, engagement__title__in=(PHASE_TWO, RWE)
    ).exclude(action=DENIED, actor__provider__slug="ledger-research")
    # Alpha's and Bio's people trying the EU banks engagement are in its trail, nothing else.
    assert not AuditEvent.objects.filter(pk__in=ids, client__slug="alpha-pharma").exclude(
        action=DENIED, engagement__title=EU_BANKS
    )
    assert not AuditEvent.objects.filter(pk__in=ids, provider__slug="bio-analytics").exclude(
        action=DENIED, engagement__title=EU_BANKS
    )


def test_staff_export_every_organisations_events(busy_world, browser):
    ids = set(exported_ids(export(browser, "staff")))

    assert ids == set(AuditEvent.objects.values_list("pk", flat=True))


@pytest.mark.parametrize(
    "username", ["northwind.manager", "alpha.manager", "alpha.viewer", "bio.lead", "bio.analyst"]
)
def test_anyone_but_an_admin_is_refused_the_trail_everywhere(username, browser, api):
    exported = AuditEvent.objects.filter(action="audit.exported").count()
    client = browser(username)

    assert client.get(reverse("audit:trail")).status_code == 403
    assert client.get(reverse("audit:export")).status_code == 403
    assert api(username).get("/api/v1/audit/").status_code == 403
    assert AuditEvent.objects.filter(action="audit.exported").count() == exported
    refusals = AuditEvent.objects.filter(action=DENIED, actor__username=username)
    assert refusals.filter(changes__attempted="organisation_audit").count() == 3


def test_the_api_lists_the_same_events_as_the_export(busy_world, browser, api):
    listed, url = [], "/api/v1/audit/?page_size=50"
    while url:
        page = api("bio.admin").get(url)
        assert page.status_code == 200, page.content
        listed += [item["id"] for item in page.json()["results"]]
        url = page.json()["next"]

    assert len(listed) == len(set(listed))
    assert set(listed) == ids_where(bio_owns)


def test_the_page_shows_the_newest_events_and_pages_back_by_id(busy_world, browser, users):
    bio = Provider.objects.get(slug="bio-analytics")
    audit_record_many(
        [
            {"actor": users.bio_admin, "action": "test.filler", "provider_id": bio.pk}
            for _ in range(60)
        ]
    )
    client = browser("bio.admin")

    first = client.get(reverse("audit:trail"))
    assert first.status_code == 200
    shown = first.context["events"]
    assert len(shown) == 50
    assert [event.pk for event in shown] == sorted((e.pk for e in shown), reverse=True)
    older = client.get(first.context["older_url"])
    assert older.status_code == 200
    more = older.context["events"]
    assert more and max(event.pk for event in more) < min(event.pk for event in shown)
    assert set(event.pk for event in shown + more) <= ids_where(bio_owns)


# -- filters ---------------------------------------------------------------------------------


def test_the_action_filter_takes_one_action_or_a_family(busy_world, browser):
    denials = csv_rows(export(browser, "alpha.admin", action="access."))
    holds = csv_rows(export(browser, "alpha.admin", action="engagement.hold"))

    assert denials and {row["action"] for row in denials} == {DENIED}
    assert holds and {row["action"] for row in holds} == {"engagement.hold"}


def test_the_date_filters_include_both_days(busy_world, browser):
    today = timezone.localdate()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)

    everything = exported_ids(export(browser, "alpha.admin"))
    today_only = exported_ids(export(browser, "alpha.admin", since=today, until=today))
    before_today = exported_ids(export(browser, "alpha.admin", until=yesterday))
    after_today = exported_ids(export(browser, "alpha.admin", since=tomorrow))

    # The demo was built today: everything is from today (each export adds its own event).
    assert set(everything) <= set(today_only)
    assert before_today == [] and after_today == []


def test_the_api_applies_the_same_filters(busy_world, api):
    response = api("alpha.admin").get("/api/v1/audit/", {"action": "access.", "page_size": 200})

    assert response.status_code == 200
    results = response.json()["results"]
    assert results and {item["action"] for item in results} == {DENIED}


def test_an_invalid_filter_is_refused_and_nothing_is_exported(browser, api):
    exported = AuditEvent.objects.filter(action="audit.exported").count()

    page = browser("alpha.admin").get(reverse("audit:trail"), {"since": "31/02/2026"})
    csv_export = export(browser, "alpha.admin", since="2026-02-31")
    listing = api("alpha.admin").get("/api/v1/audit/", {"until": "yesterday"})

    assert page.status_code == 200
    assert "Enter a valid date." in page.content.decode()
    assert csv_export.status_code == 302
    assert listing.status_code == 400
    assert AuditEvent.objects.filter(action="audit.exported").count() == exported


# -- the export itself -------------------------------------------------------------------------


def test_an_export_is_recorded_with_who_when_where_and_which_filters(browser, users):
    today = timezone.localdate()

    response = export(browser, "alpha.admin", since=today, action="auth.")
    csv_rows(response)

    event = AuditEvent.objects.filter(action="audit.exported").latest("id")
    assert event.actor == users.alpha_admin
    assert event.client_id == users.alpha_admin.client_id
    assert event.changes == {
        "format": "csv",
        "filters": {"since": today.isoformat(), "action": "auth."},
    }
    assert event.ip == "198.51.100.23"
    assert event.user_agent.startswith("AuditTest/")


def test_the_csv_has_every_column_and_neutralises_formulas(browser, users):
    vendor_services.team_create(actor=users.bio_admin, name="=HYPERLINK(evil)")

    rows = csv_rows(export(browser, "bio.admin", action="team.create"))

    assert list(rows[0]) == [
        "id",
        "time",
        "actor",
        "action",
        "object type",
        "object id",
        "object",
        "engagement",
        "changes",
        "ip",
        "user agent",
    ]
    assert rows[0]["object"] == "'=HYPERLINK(evil)"
    assert rows[0]["actor"] == "bio.admin"


def test_the_export_costs_the_same_queries_however_long_the_trail(browser, users):
    alpha = users.alpha_admin.client

    def queries_for_export():
        client = browser("alpha.admin")
        with CaptureQueriesContext(connection) as queries:
            rows = csv_rows(client.get(reverse("audit:export")))
        return len(queries), len(rows)

    few_queries, few_rows = queries_for_export()
    audit_record_many(
        [
            {"actor": users.alpha_manager, "action": "test.filler", "client_id": alpha.pk}
            for _ in range(2500)
        ]
    )
    many_queries, many_rows = queries_for_export()

    assert many_rows >= few_rows + 2500
    assert many_queries == few_queries


# -- where to find it --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "shown"),
    [("alpha.admin", True), ("bio.admin", True), ("staff", True), ("alpha.manager", False)],
)
def test_the_dashboard_offers_the_trail_to_admins_only(username, shown, browser):
    page = browser(username).get(reverse("home")).content.decode()

    assert (f'href="{reverse("audit:trail")}"' in page) is shown
