"""Every /api/v1/ route, for every demo role, against its own objects and another tenant's.

The routes are discovered from the URL resolver; `TABLE` says how to call each one and what
each role of the design's role table must get. A route the table does not know fails
`test_every_api_route_is_in_the_table`, so a new endpoint is covered the day it is added.

Four walks over the table:
- own objects: each role of the role table gets 2xx where the table allows, 403 where it may
  see the object but not act, 404 where it may not see it (409 only where the table says);
  each case is its own rolled-back test, arranged through the services so the action is legal;
- another tenant's objects: every demo user gets 404, exactly as for an id that does not
  exist (403 only where the whole resource is closed to the role, whatever the id);
- lists (and the scorecard): every demo user sees exactly the rows of the engagements
  DEMO.md gives them, checked against `VISIBLE`, not against the access module;
- no credentials: 401 everywhere but the login.
"""

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from rest_framework.authtoken.models import Token

from deliverables.choices import DeliverableStatus
from deliverables.models import Deliverable
from engagements.models import Client, Document, Engagement
from kpo.accounts.choices import Role
from kpo.audit.models import AuditEvent
from kpo.demo import DEMO_PASSWORD
from kpo.notifications.models import Notification, Webhook
from tests.api.routes import API_PREFIX, discovered_routes
from tests.support import token_credentials
from vendors.models import AnalystTeam, Provider, ServiceLine, VendorApproval

PHASE_TWO = "Phase II oncology trial analysis"
RWE = "Real-world evidence dashboard"
EU_BANKS = "EU banks equity coverage"

# The role table's columns, each played by one demo user.
C_ADMIN = "alpha.admin"
C_MANAGER = "alpha.manager"
C_VIEWER = "alpha.viewer"
P_ADMIN = "bio.admin"
E_LEAD = "bio.lead"
ANALYST = "bio.analyst"
QA = "bio.qa"
ROLE_TABLE = (C_ADMIN, C_MANAGER, C_VIEWER, P_ADMIN, E_LEAD, ANALYST, QA)
CLIENT_SIDE = (C_ADMIN, C_MANAGER, C_VIEWER)
PROVIDER_SIDE = (P_ADMIN, E_LEAD, ANALYST, QA)
# Another client, another provider, and a Bio-Analytics analyst on nothing of Alpha's.
OUTSIDERS = ("bio.writer", "northwind.manager", "ledger.admin", "ledger.analyst")
EVERYONE = ROLE_TABLE + OUTSIDERS

# The engagements each demo user may see, straight from shared/DEMO.md (not from the code
# under test): managers see what they manage or are granted, admins their whole organisation
# (providers never a draft), analysts what their team is on.
VISIBLE = {
    C_ADMIN: {PHASE_TWO, RWE},
    C_MANAGER: {PHASE_TWO, RWE},
    C_VIEWER: {PHASE_TWO},
    P_ADMIN: {PHASE_TWO, RWE},
    E_LEAD: {PHASE_TWO},
    ANALYST: {PHASE_TWO},
    QA: {PHASE_TWO},
    "bio.writer": set(),
    "northwind.manager": {EU_BANKS},
    "ledger.admin": {EU_BANKS},
    "ledger.analyst": {EU_BANKS},
}

# For each user, the other tenant's work: the engagement they must not see into, and the
# client and provider they have nothing to do with.
_ALPHA_SIDE = {"engagement": EU_BANKS, "client": "northwind", "provider": "ledger-research"}
_NORTHWIND_SIDE = {"engagement": PHASE_TWO, "client": "alpha-pharma", "provider": "bio-analytics"}
FOREIGN = {
    **dict.fromkeys(ROLE_TABLE, _ALPHA_SIDE),
    # bio.writer works for Bio-Analytics but on nothing of Alpha's.
    "bio.writer": {**_ALPHA_SIDE, "engagement": PHASE_TWO},
    **dict.fromkeys(("northwind.manager", "ledger.admin", "ledger.analyst"), _NORTHWIND_SIDE),
}
# One deliverable, and one deliverable with a submission, in each foreign engagement.
FOREIGN_DELIVERABLE = {EU_BANKS: "Q4 earnings model", PHASE_TWO: "Safety signal memo"}
FOREIGN_SUBMITTED = {EU_BANKS: "Sector initiation report", PHASE_TWO: "Interim efficacy report"}
# Who stands for "someone of the other tenant" when a per-user object (notification) is needed.
FOREIGN_PERSON = {"northwind": "northwind.manager", "alpha-pharma": "alpha.manager"}

ALL_FIVE = {"accuracy": 5, "completeness": 5, "insight": 5, "relevance": 5, "presentation": 5}
MISSING_ID = 987_654_321


def pdf(name="upload.pdf"):
    return SimpleUploadedFile(
        name, b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n", content_type="application/pdf"
    )


def every(status):
    return dict.fromkeys(ROLE_TABLE, status)


def only(*allowed, ok=200, hidden=()):
    """`ok` for the allowed roles, 404 for those who may not see the object, 403 for the rest."""
    return {user: ok if user in allowed else 404 if user in hidden else 403 for user in ROLE_TABLE}


def admins_only(user):
    """For resources closed to every role but the organisation admins, whatever the object."""
    return 404 if user.role in (Role.CLIENT_ADMIN, Role.PROVIDER_ADMIN) else 403


def public_to_clients(user):
    """The provider directory is open to every client user; providers see only their own."""
    return 200 if user.client_id else 404


# -- how to find the objects -------------------------------------------------------------


def foreign_engagement(w, u):
    return w.engagement(FOREIGN[u.username]["engagement"])


def foreign_deliverable(w, u):
    return w.deliverable(FOREIGN_DELIVERABLE[FOREIGN[u.username]["engagement"]])


def foreign_submission(w, u):
    return w.submission(FOREIGN_SUBMITTED[FOREIGN[u.username]["engagement"]])


def foreign_document(w, u):
    return w.document(foreign_engagement(w, u))


def foreign_client(w, u):
    return w.client(FOREIGN[u.username]["client"])


def foreign_provider(w, u):
    return w.provider(FOREIGN[u.username]["provider"])


def foreign_team(w, u):
    return w.team(
        "EU Banks" if FOREIGN[u.username]["provider"] == "ledger-research" else "Biostatistics"
    )


def foreign_approval(w, u):
    side = FOREIGN[u.username]
    return w.approval(side["client"], side["provider"])


def foreign_webhook(w, u):
    return w.webhook(FOREIGN[u.username]["provider"])


def foreign_notification(w, u):
    return w.notification_for(FOREIGN_PERSON[FOREIGN[u.username]["client"]])


def foreign_person(w, u):
    return w.user(FOREIGN_PERSON[FOREIGN[u.username]["client"]])


def foreign_team_member(w, u):
    return w.user(
        "ledger.analyst" if u.provider_id != w.provider("ledger-research").pk else "bio.analyst"
    )


def own_webhook(w, u):
    return w.webhook("alpha-pharma" if u.client_id else "bio-analytics")


def phase_two(w, u):
    return w.phase_two


def rwe(w, u):
    return w.rwe


def deliverable(title):
    return lambda w, u: w.deliverable(title)


def no_body(w, u):
    return {}


# -- the table ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """How to call one route with one method, and what each role must get.

    `target` gives the own object whose id fills `{pk}`; `foreign` another tenant's object
    (for routes without `{pk}`, `foreign_body` puts its id into the body instead).
    `foreign_status` says what a user gets on a foreign object when it is not 404.
    """

    route: str
    method: str
    own: dict[str, int]
    label: str = ""
    target: Any = None
    body: Any = no_body
    multipart: bool = False
    setup: Any = None
    foreign: Any = None
    foreign_body: Any = None
    foreign_status: Any = None
    anonymous: bool = False
    listing: Any = None

    @property
    def key(self):
        return (self.route, self.method)

    @property
    def name(self):
        return f"{self.method} {self.route}" + (f" ({self.label})" if self.label else "")


def _visible(username):
    return Engagement.objects.filter(title__in=VISIBLE[username])


def _clients_listed(w, u):
    if u.client_id:
        return Client.objects.filter(pk=u.client_id)
    return Client.objects.filter(engagements__in=_visible(u.username))


def _teams_listed(w, u):
    if u.provider_id:
        return AnalystTeam.objects.filter(provider_id=u.provider_id)
    return AnalystTeam.objects.filter(engagements__in=_visible(u.username))


def _providers_listed(w, u):
    if u.provider_id:
        return Provider.objects.filter(pk=u.provider_id)
    return Provider.objects.filter(is_active=True)


def _webhooks_listed(w, u):
    if u.role not in (Role.CLIENT_ADMIN, Role.PROVIDER_ADMIN):
        return None  # 403: the list is closed to the role
    if u.client_id:
        return Webhook.objects.filter(client_id=u.client_id)
    return Webhook.objects.filter(provider_id=u.provider_id)


def _audit_listed(w, u):
    """The organisation's trail: its engagements' events (a provider's without a client's
    drafts), and its own events outside any engagement (not a client's due diligence of a
    provider). No one has been refused anything yet in these tests."""
    if u.role not in (Role.CLIENT_ADMIN, Role.PROVIDER_ADMIN):
        return None
    engagements = Q(engagement__title__in=VISIBLE[u.username])
    if u.client_id:
        return AuditEvent.objects.filter(engagements | Q(engagement=None, client_id=u.client_id))
    return AuditEvent.objects.filter(
        engagements | Q(engagement=None, client=None, provider_id=u.provider_id)
    )


TABLE = [
    # -- accounts ---------------------------------------------------------------------------
    Case(
        "auth/token/",
        "POST",
        every(200),
        label="own credentials",
        # With the code of the authenticator app for the admins, who must have one.
        body=lambda w, u: token_credentials(u, DEMO_PASSWORD),
        anonymous=True,
    ),
    Case(
        "auth/token/",
        "POST",
        {user: 400 if user in (C_ADMIN, P_ADMIN) else 200 for user in ROLE_TABLE},
        label="password without the code",
        body=lambda w, u: {"username": u.username, "password": DEMO_PASSWORD},
        anonymous=True,
    ),
    Case(
        "auth/token/",
        "POST",
        every(400),
        label="wrong password",
        body=lambda w, u: {"username": u.username, "password": "not-the-password"},
        anonymous=True,
    ),
    Case(
        "auth/token/",
        "DELETE",
        every(204),
        label="revoke own token",
        setup=lambda w: [Token.objects.get_or_create(user=w.user(u)) for u in ROLE_TABLE],
    ),
    # -- catalogue and directory ---------------------------------------------------------------
    Case("service-lines/", "GET", every(200), listing=lambda w, u: ServiceLine.objects.all()),
    Case(
        "service-lines/{pk}/",
        "GET",
        every(200),
        target=lambda w, u: w.service_line("clinical_data_analysis"),
    ),
    Case("clients/", "GET", every(200), listing=_clients_listed),
    Case(
        "clients/{pk}/",
        "GET",
        every(200),
        target=lambda w, u: w.client("alpha-pharma"),
        foreign=foreign_client,
    ),
    Case("providers/", "GET", every(200), listing=_providers_listed),
    Case(
        "providers/{pk}/",
        "GET",
        every(200),
        target=lambda w, u: w.provider("bio-analytics"),
        foreign=foreign_provider,
        foreign_status=public_to_clients,
    ),
    Case(
        "providers/{pk}/scorecard/",
        "GET",
        every(200),
        target=lambda w, u: w.provider("bio-analytics"),
        foreign=foreign_provider,
        foreign_status=public_to_clients,
    ),
    # -- vendor approvals: client users read their own client's, client admins decide ------------
    Case(
        "vendor-approvals/",
        "GET",
        every(200),
        listing=lambda w, u: VendorApproval.objects.filter(client_id=u.client_id or -1),
    ),
    Case(
        "vendor-approvals/",
        "POST",
        only(C_ADMIN, ok=201),
        body=lambda w, u: {
            "provider": w.provider("lexpoint").pk,
            "status": "pending",
            "risk_tier": "high",
        },
    ),
    Case(
        "vendor-approvals/{pk}/",
        "GET",
        only(*CLIENT_SIDE, hidden=PROVIDER_SIDE),
        target=lambda w, u: w.approval("alpha-pharma", "bio-analytics"),
        foreign=foreign_approval,
    ),
    Case(
        "vendor-approvals/{pk}/",
        "PATCH",
        only(C_ADMIN, hidden=PROVIDER_SIDE),
        target=lambda w, u: w.approval("alpha-pharma", "bio-analytics"),
        body=lambda w, u: {"risk_tier": "medium"},
        foreign=foreign_approval,
    ),
    # -- analyst teams: provider admins manage their own ----------------------------------
    Case("teams/", "GET", every(200), listing=_teams_listed),
    Case(
        "teams/",
        "POST",
        only(P_ADMIN, ok=201),
        body=lambda w, u: {"name": "Epidemiology"},
        foreign_body=lambda w, u, pk: {"name": "Poached", "members": [pk]},
        foreign=foreign_team_member,
        foreign_status=lambda u: 400 if u.role == Role.PROVIDER_ADMIN else 403,
    ),
    Case(
        "teams/{pk}/",
        "GET",
        every(200),
        target=lambda w, u: w.team("Biostatistics"),
        foreign=foreign_team,
    ),
    Case(
        "teams/{pk}/",
        "PATCH",
        only(P_ADMIN),
        target=lambda w, u: w.team("Biostatistics"),
        body=lambda w, u: {"name": "Biostatistics and Epidemiology"},
        foreign=foreign_team,
    ),
    # -- engagements -------------------------------------------------------------------------
    Case("engagements/", "GET", every(200), listing=lambda w, u: _visible(u.username)),
    Case(
        "engagements/",
        "POST",
        only(C_ADMIN, C_MANAGER, ok=201),
        body=lambda w, u: {
            "provider": w.provider("bio-analytics").pk,
            "service_line": "clinical_data_analysis",
            "title": "Biomarker discovery",
        },
        foreign=foreign_person,
        foreign_body=lambda w, u, pk: {
            "provider": w.provider("bio-analytics").pk,
            "service_line": "clinical_data_analysis",
            "title": "Managed by a stranger",
            "client_manager": pk,
        },
        foreign_status=lambda u: 400 if u.role in (Role.CLIENT_ADMIN, Role.CLIENT_MANAGER) else 403,
    ),
    Case(
        "engagements/{pk}/",
        "GET",
        every(200),
        target=phase_two,
        foreign=foreign_engagement,
    ),
    Case(
        "engagements/{pk}/",
        "PATCH",
        only(C_ADMIN, C_MANAGER),
        label="client terms",
        target=phase_two,
        body=lambda w, u: {"title": "Phase II oncology trial analysis (amended)"},
        foreign=foreign_engagement,
    ),
    Case(
        "engagements/{pk}/",
        "PATCH",
        only(P_ADMIN, E_LEAD),
        label="provider teams",
        target=phase_two,
        body=lambda w, u: {"teams": [w.team("Biostatistics").pk, w.team("Medical Writing").pk]},
        foreign=foreign_engagement,
    ),
    Case(
        "engagements/{pk}/",
        "PATCH",
        only(P_ADMIN),
        label="provider lead",
        target=phase_two,
        body=lambda w, u: {"provider_lead": w.user("bio.lead").pk},
        foreign=foreign_engagement,
    ),
    Case(
        "engagements/{pk}/propose/",
        "POST",
        only(C_ADMIN, C_MANAGER, hidden=PROVIDER_SIDE),  # providers never see a draft
        label="a draft",
        setup=lambda w: w.draft(),
        target=lambda w, u: Engagement.objects.get(title="Biomarker discovery"),
        foreign=foreign_engagement,
    ),
    Case(
        "engagements/{pk}/accept/",
        "POST",
        only(P_ADMIN, hidden=(C_VIEWER, E_LEAD, ANALYST, QA)),
        label="the RWE proposal as seeded",
        target=rwe,
        foreign=foreign_engagement,
    ),
    Case(
        "engagements/{pk}/accept/",
        "POST",
        only(P_ADMIN),
        label="the RWE proposal, staffed",
        setup=lambda w: w.staff_rwe(),
        target=rwe,
    ),
    Case(
        "engagements/{pk}/decline/",
        "POST",
        only(P_ADMIN, hidden=(C_VIEWER, E_LEAD, ANALYST, QA)),
        label="the RWE proposal as seeded",
        target=rwe,
        body=lambda w, u: {"reason": "No capacity this quarter."},
        foreign=foreign_engagement,
    ),
    Case(
        "engagements/{pk}/decline/",
        "POST",
        only(P_ADMIN),
        label="the RWE proposal, staffed",
        setup=lambda w: w.staff_rwe(),
        target=rwe,
    ),
    Case(
        "engagements/{pk}/hold/",
        "POST",
        only(C_ADMIN, C_MANAGER),
        target=phase_two,
        body=lambda w, u: {"reason": "Budget review"},
        foreign=foreign_engagement,
    ),
    Case(
        "engagements/{pk}/resume/",
        "POST",
        only(C_ADMIN, C_MANAGER),
        label="held",
        setup=lambda w: w.hold(w.phase_two),
        target=phase_two,
        foreign=foreign_engagement,
    ),
    Case(
        "engagements/{pk}/complete/",
        "POST",
        only(C_ADMIN, C_MANAGER),
        label="every deliverable closed",
        setup=lambda w: w.close_open_deliverables(w.phase_two),
        target=phase_two,
        foreign=foreign_engagement,
    ),
    Case(
        "engagements/{pk}/complete/",
        "POST",
        only(C_ADMIN, C_MANAGER, ok=409),
        label="deliverables still open",
        target=phase_two,
    ),
    Case(
        "engagements/{pk}/terminate/",
        "POST",
        only(C_ADMIN, C_MANAGER),
        target=phase_two,
        body=lambda w, u: {"reason": "Trial stopped"},
        foreign=foreign_engagement,
    ),
    Case(
        "engagements/{pk}/audit/",
        "GET",
        only(C_ADMIN, C_MANAGER, P_ADMIN, E_LEAD),
        target=phase_two,
        foreign=foreign_engagement,
    ),
    # -- data room -------------------------------------------------------------------------
    Case(
        "documents/",
        "GET",
        every(200),
        listing=lambda w, u: Document.objects.filter(engagement__in=_visible(u.username)),
    ),
    Case(
        "documents/",
        "POST",
        only(C_ADMIN, C_MANAGER, ok=201),
        multipart=True,
        body=lambda w, u: {"engagement": w.phase_two.pk, "file": pdf(), "title": "Site list"},
        foreign=foreign_engagement,
        foreign_body=lambda w, u, pk: {"engagement": pk, "file": pdf()},
        foreign_status=lambda u: 400,  # an engagement one may not see "does not exist"
    ),
    Case(
        "documents/{pk}/",
        "GET",
        every(200),
        target=lambda w, u: w.document(w.phase_two),
        foreign=foreign_document,
    ),
    Case(
        "documents/{pk}/download/",
        "GET",
        every(200),
        target=lambda w, u: w.document(w.phase_two),
        foreign=foreign_document,
    ),
    # -- deliverables ------------------------------------------------------------------------
    Case(
        "deliverables/",
        "GET",
        every(200),
        listing=lambda w, u: Deliverable.objects.filter(engagement__in=_visible(u.username)),
    ),
    Case(
        "deliverables/",
        "POST",
        only(C_ADMIN, C_MANAGER, E_LEAD, ok=201),
        body=lambda w, u: {
            "engagement": w.phase_two.pk,
            "title": "Biomarker subgroup tables",
            "due_at": w.due_at().isoformat(),
        },
        foreign=foreign_engagement,
        foreign_body=lambda w, u, pk: {
            "engagement": pk,
            "title": "Planted",
            "due_at": w.due_at().isoformat(),
        },
        foreign_status=lambda u: 400,
    ),
    Case(
        "deliverables/{pk}/",
        "GET",
        every(200),
        target=deliverable("Interim efficacy report"),
        foreign=foreign_deliverable,
    ),
    Case(
        "deliverables/{pk}/",
        "PATCH",
        only(C_ADMIN, C_MANAGER, E_LEAD),
        target=deliverable("Subgroup response analysis"),
        body=lambda w, u: {"title": "Subgroup response analysis (ECOG 0-1)"},
        foreign=foreign_deliverable,
    ),
    Case(
        "deliverables/{pk}/start/",
        "POST",
        only(E_LEAD, ANALYST),
        target=deliverable("Subgroup response analysis"),
        foreign=foreign_deliverable,
    ),
    Case(
        "deliverables/{pk}/cancel/",
        "POST",
        only(C_ADMIN, C_MANAGER, E_LEAD),
        target=deliverable("Subgroup response analysis"),
        foreign=foreign_deliverable,
    ),
    Case(
        "deliverables/{pk}/submissions/",
        "GET",
        every(200),
        target=deliverable("Interim efficacy report"),
        foreign=foreign_deliverable,
    ),
    Case(
        "deliverables/{pk}/submissions/",
        "POST",
        only(E_LEAD, ANALYST, ok=201),
        target=deliverable("Safety signal memo"),
        multipart=True,
        body=lambda w, u: {"file": pdf("memo.pdf"), "notes": "First cut."},
        foreign=foreign_deliverable,
    ),
    Case(
        "deliverables/{pk}/qa/",
        "POST",
        # The analyst's role does not QA at all (and this is their own submission).
        only(E_LEAD, QA, ok=201),
        label="submitted by bio.analyst",
        setup=lambda w: w.submit("Safety signal memo"),
        target=deliverable("Safety signal memo"),
        body=lambda w, u: {"decision": "pass", "comment": "Checked."},
        foreign=foreign_deliverable,
    ),
    Case(
        "deliverables/{pk}/reviews/",
        "GET",
        every(200),
        target=deliverable("Interim efficacy report"),
        foreign=foreign_deliverable,
    ),
    Case(
        "deliverables/{pk}/reviews/",
        "POST",
        only(C_ADMIN, C_MANAGER, ok=201),
        target=deliverable("Interim efficacy report"),
        body=lambda w, u: {"decision": "accept", "scores": ALL_FIVE, "comment": "Thorough."},
        foreign=foreign_deliverable,
    ),
    Case(
        "deliverables/{pk}/comments/",
        "GET",
        every(200),
        target=deliverable("Interim efficacy report"),
        foreign=foreign_deliverable,
    ),
    Case(
        "deliverables/{pk}/comments/",
        "POST",
        only(C_ADMIN, C_MANAGER, P_ADMIN, E_LEAD, ANALYST, QA, ok=201),
        target=deliverable("Interim efficacy report"),
        body=lambda w, u: {"body": "Can we see the per-site breakdown?"},
        foreign=foreign_deliverable,
    ),
    Case(
        "submissions/{pk}/download/",
        "GET",
        every(200),
        target=lambda w, u: w.submission("Interim efficacy report"),
        foreign=foreign_submission,
    ),
    # -- knowledge library -------------------------------------------------------------------
    Case(
        "knowledge/",
        "GET",
        every(200),
        listing=lambda w, u: Deliverable.objects.filter(
            engagement__in=_visible(u.username), status=DeliverableStatus.ACCEPTED
        ),
    ),
    # -- notifications and webhooks ----------------------------------------------------------
    Case(
        "notifications/",
        "GET",
        every(200),
        listing=lambda w, u: Notification.objects.filter(user=u),
    ),
    Case(
        "notifications/{pk}/read/",
        "POST",
        every(200),
        target=lambda w, u: w.notification_for(u.username),
        foreign=foreign_notification,
    ),
    Case(
        "webhooks/",
        "GET",
        only(C_ADMIN, P_ADMIN),
        listing=_webhooks_listed,
    ),
    Case(
        "webhooks/",
        "POST",
        only(C_ADMIN, P_ADMIN, ok=201),
        body=lambda w, u: {
            "url": "https://hooks.example.com/kpo",
            "events": ["deliverable_accepted"],
            "secret": "another-long-webhook-secret",
        },
    ),
    Case(
        "webhooks/{pk}/",
        "GET",
        only(C_ADMIN, P_ADMIN),
        target=own_webhook,
        foreign=foreign_webhook,
        foreign_status=admins_only,
    ),
    Case(
        "webhooks/{pk}/",
        "PATCH",
        only(C_ADMIN, P_ADMIN),
        target=own_webhook,
        body=lambda w, u: {"active": False},
        foreign=foreign_webhook,
        foreign_status=admins_only,
    ),
    Case(
        "webhooks/{pk}/deliveries/",
        "GET",
        only(C_ADMIN, P_ADMIN),
        target=own_webhook,
        foreign=foreign_webhook,
        foreign_status=admins_only,
    ),
    Case(
        "webhooks/{pk}/",
        "DELETE",
        only(C_ADMIN, P_ADMIN, ok=204),
        target=own_webhook,
        foreign=foreign_webhook,
        foreign_status=admins_only,
    ),
    # -- the organisation's audit trail (read-only) --------------------------------------------
    Case("audit/", "GET", only(C_ADMIN, P_ADMIN), listing=_audit_listed),
]


# -- route discovery: tests/api/routes.py -----------------------------------------------


def test_the_route_walk_finds_the_api():
    routes = discovered_routes()
    # Sanity of the walk itself, so that an empty walk cannot make the next test pass.
    assert ("engagements/{pk}/hold/", "POST") in routes
    assert ("deliverables/{pk}/comments/", "GET") in routes
    assert ("auth/token/", "POST") in routes
    assert ("engagements/{pk}/", "PUT") not in routes  # routed, but refused by the viewset


def test_every_api_route_is_in_the_table():
    unknown = discovered_routes() - {case.key for case in TABLE}
    assert not unknown, (
        f"These /api/v1/ routes are not in the authorization table of {__name__}; "
        f"say how to call them and what each role gets: {sorted(unknown)}"
    )


def test_the_table_names_only_routes_that_exist():
    gone = {case.key for case in TABLE} - discovered_routes()
    assert not gone, f"The authorization table names routes that no longer exist: {sorted(gone)}"


# -- calling a case ----------------------------------------------------------------------


def _url(route, pk=None):
    return "/" + API_PREFIX + (route.format(pk=pk) if "{pk}" in route else route)


def _call(client, case, *, pk=None, body=None, query=""):
    url = _url(case.route, pk) + query
    method = getattr(client, case.method.lower())
    if case.method in ("GET", "DELETE"):
        return method(url)
    return method(url, body or {}, format="multipart" if case.multipart else "json")


def _explain(response):
    content = getattr(response, "data", None)
    if content is None and not getattr(response, "streaming", False):
        content = response.content[:500]
    return f"{response.status_code}: {content!r}"


def _case_id(case, username=None):
    return case.name + (f" as {username}" if username else "")


OWN_CASES = [
    pytest.param(case, username, id=_case_id(case, username))
    for case in TABLE
    for username in ROLE_TABLE
]


@pytest.mark.parametrize(("case", "username"), OWN_CASES)
def test_each_role_gets_what_the_role_table_allows_on_its_own_objects(
    case, username, world, api, request
):
    if case.setup:
        case.setup(world)
    user = world.user(username)
    if case.anonymous:
        request.getfixturevalue("cheap_password")(user)
    target = case.target(world, user) if case.target else None
    response = _call(
        api(None if case.anonymous else username),
        case,
        pk=target.pk if target else None,
        body=case.body(world, user),
    )
    assert response.status_code == case.own[username], _explain(response)


FOREIGN_CASES = [
    pytest.param(case, username, id=_case_id(case, username))
    for case in TABLE
    if case.foreign
    for username in EVERYONE
]


@pytest.mark.parametrize(("case", "username"), FOREIGN_CASES)
def test_another_tenants_object_is_answered_as_if_it_did_not_exist(case, username, world, api):
    # No setup: it arranges the user's own object, and the answer here must not depend on
    # the state of the stranger's (the same route in other states has its own table rows).
    user = world.user(username)
    stranger = case.foreign(world, user)
    expected = case.foreign_status(user) if case.foreign_status else 404
    client = api(username)

    def call(pk):
        if case.foreign_body:
            return _call(client, case, body=case.foreign_body(world, user, pk))
        return _call(client, case, pk=pk, body=case.body(world, user))

    response = call(stranger.pk)
    assert response.status_code == expected, _explain(response)
    if expected != 200:
        # Nothing tells the stranger's object apart from one that does not exist.
        missing = call(MISSING_ID)
        assert missing.status_code == response.status_code, _explain(missing)
        if response.status_code == 404:
            assert response.json() == missing.json()


LIST_CASES = [
    pytest.param(case, username, id=_case_id(case, username))
    for case in TABLE
    if case.listing
    for username in EVERYONE
]


def _data_rooms_on_both_sides(world):
    world.document(world.eu_banks)  # Phase II has one from the demo


def _webhooks_on_every_side(world):
    for organisation in ("alpha-pharma", "bio-analytics", "ledger-research"):
        world.webhook(organisation)


def _notifications_on_every_side(world):
    for username in ("alpha.manager", "bio.analyst", "bio.writer", "northwind.manager"):
        world.notification_for(username)


# Rows of every tenant for the lists the demo leaves one-sided or empty.
POPULATE = {
    "documents/": _data_rooms_on_both_sides,
    "webhooks/": _webhooks_on_every_side,
    "notifications/": _notifications_on_every_side,
}


@pytest.mark.parametrize(("case", "username"), LIST_CASES)
def test_a_list_holds_exactly_what_the_user_may_see(case, username, world, api):
    if case.route in POPULATE:
        POPULATE[case.route](world)
    user = world.user(username)
    expected = case.listing(world, user)
    response = _call(api(username), case, query="?page_size=200")
    if expected is None:
        assert response.status_code == 403, _explain(response)
        return
    assert response.status_code == 200, _explain(response)
    payload = response.json()
    assert payload.get("next") is None, "everything should fit on one page of 200"
    results = payload["results"]
    listed = [item["id"] for item in results]
    assert len(listed) == len(set(listed)), "a row is listed twice"
    assert set(listed) == set(expected.values_list("pk", flat=True))
    visible = set(_visible(username).values_list("pk", flat=True))
    strays = {item["engagement"] for item in results if item.get("engagement")} - visible
    assert not strays, f"rows of engagements {username} may not see: {strays}"


@pytest.mark.parametrize("username", EVERYONE)
@pytest.mark.parametrize("provider_slug", ["bio-analytics", "ledger-research"])
def test_a_scorecard_counts_only_engagements_the_user_may_see(provider_slug, username, world, api):
    user = world.user(username)
    provider = world.provider(provider_slug)
    response = api(username).get(_url("providers/{pk}/scorecard/", provider.pk))
    if user.provider_id and user.provider_id != provider.pk:
        assert response.status_code == 404, _explain(response)
        return
    assert response.status_code == 200, _explain(response)
    scorecard = response.json()
    expected = set(_visible(username).filter(provider=provider).values_list("pk", flat=True))
    assert {row["engagement"] for row in scorecard["by_engagement"]} == expected
    if not expected:
        assert scorecard["deliverables_delivered"] == 0
        assert scorecard["average_quality"] is None


UNAUTHENTICATED_CASES = [
    pytest.param(case, id=case.name)
    for case in {case.key: case for case in reversed(TABLE)}.values()
]


@pytest.mark.parametrize("case", UNAUTHENTICATED_CASES)
def test_a_caller_without_credentials_gets_401_everywhere_but_the_login(case, world, api, request):
    if case.setup:
        case.setup(world)
    user = world.user(C_MANAGER)
    if case.anonymous:
        request.getfixturevalue("cheap_password")(user)
    target = case.target(world, user) if case.target else None
    response = _call(api(None), case, pk=target.pk if target else None, body=case.body(world, user))
    expected = 200 if case.anonymous else 401
    assert response.status_code == expected, _explain(response)


def test_a_token_from_the_login_authenticates_later_requests(world, api):
    """With the password the demo was seeded with (and its production-strength hash)."""
    client = api(None)
    response = client.post(
        _url("auth/token/"), {"username": C_VIEWER, "password": DEMO_PASSWORD}, format="json"
    )
    assert response.status_code == 200, _explain(response)
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    listed = client.get(_url("engagements/")).json()["results"]
    assert {row["id"] for row in listed} == {world.phase_two.pk}
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert client.get(_url("engagements/")).status_code == 401
