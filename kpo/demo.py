"""The demo data of shared/DEMO.md, built through the services as real users would build it.

Idempotent: every organisation, user and engagement is looked up first and only created
when missing, so running it twice changes nothing.
"""

import io
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from deliverables import services as deliverable_services
from engagements import services as engagement_services
from engagements.models import Client, Engagement
from kpo.accounts import two_factor
from kpo.accounts.choices import Role
from vendors import services as vendor_services
from vendors.models import AnalystTeam, Certification, Provider, ServiceLine, VendorApproval

DEMO_PASSWORD = "demo-password"  # noqa: S105 - documented demo credential, refused in production

CLIENTS = [
    ("alpha-pharma", "Alpha Pharmaceuticals", "pharmaceuticals"),
    ("northwind", "Northwind Capital", "financial services"),
]
PROVIDERS = [
    (
        "bio-analytics",
        "Bio-Analytics Solutions",
        "IN",
        ["clinical_data_analysis", "medical_writing", "data_analytics"],
    ),
    (
        "ledger-research",
        "Ledger Research Partners",
        "GB",
        ["equity_research", "credit_analysis", "financial_research"],
    ),
    ("lexpoint", "LexPoint Legal Research", "PH", ["legal_research", "ip_research"]),
]
# username, role, organisation slug, first name, last name
USERS = [
    ("alpha.admin", Role.CLIENT_ADMIN, "alpha-pharma", "Alice", "Admin"),
    ("alpha.manager", Role.CLIENT_MANAGER, "alpha-pharma", "Amir", "Manager"),
    ("alpha.viewer", Role.CLIENT_VIEWER, "alpha-pharma", "Ava", "Viewer"),
    ("northwind.manager", Role.CLIENT_MANAGER, "northwind", "Nora", "Manager"),
    ("bio.admin", Role.PROVIDER_ADMIN, "bio-analytics", "Bela", "Admin"),
    ("bio.lead", Role.ENGAGEMENT_LEAD, "bio-analytics", "Bruno", "Lead"),
    ("bio.analyst", Role.ANALYST, "bio-analytics", "Bina", "Analyst"),
    ("bio.qa", Role.QA_REVIEWER, "bio-analytics", "Boris", "Quality"),
    ("bio.writer", Role.ANALYST, "bio-analytics", "Beth", "Writer"),
    ("ledger.admin", Role.PROVIDER_ADMIN, "ledger-research", "Lars", "Admin"),
    ("ledger.analyst", Role.ANALYST, "ledger-research", "Lina", "Analyst"),
]
DEMO_USERNAMES = ["staff", *(row[0] for row in USERS)]
# Admins must sign in with two factors. The demo's share one documented authenticator key:
# add it to any authenticator app, or print the current code with
# `python manage.py totp_code <username>`. Like the rest of the demo, refused in production.
DEMO_ADMINS = ["staff", "alpha.admin", "bio.admin", "ledger.admin"]
DEMO_TOTP_SECRET = "DEMODEMODEMODEMODEMODEMODEMODEMO"  # noqa: S105 - documented demo credential
DEMO_TOTP_DEVICE = "Demo authenticator"

GOOD_SCORES = {"accuracy": 5, "completeness": 4, "insight": 4, "relevance": 5, "presentation": 4}
MIXED_SCORES = {"accuracy": 3, "completeness": 2, "insight": 3, "relevance": 4, "presentation": 3}


def _pdf(name: str) -> SimpleUploadedFile:
    body = io.BytesIO()
    body.write(
        b"%PDF-1.4\n% demo file\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
    )
    return SimpleUploadedFile(name, body.getvalue(), content_type="application/pdf")


class DemoBuilder:
    def __init__(self, stdout=None):
        self.now = timezone.now()
        self.today = timezone.localdate()
        self.log = (lambda msg: stdout.write(msg)) if stdout else (lambda msg: None)
        self.users = {}

    @transaction.atomic
    def build(self):
        clients = self._clients()
        providers = self._providers()
        self._users(clients, providers)
        self._two_factor()
        self._certifications(providers)
        self._approvals(clients, providers)
        teams = self._teams(providers)
        self._phase_two(clients, providers, teams)
        self._real_world_evidence(clients, providers)
        self._eu_banks(clients, providers, teams)

    def _clients(self):
        clients = {}
        for slug, name, industry in CLIENTS:
            clients[slug], _ = Client.objects.get_or_create(
                slug=slug, defaults={"name": name, "industry": industry}
            )
        return clients

    def _providers(self):
        providers = {}
        for slug, name, country, lines in PROVIDERS:
            provider, created = Provider.objects.get_or_create(
                slug=slug, defaults={"name": name, "country": country}
            )
            if created:
                provider.service_lines.set(ServiceLine.objects.filter(slug__in=lines))
            providers[slug] = provider
        return providers

    def _users(self, clients, providers):
        User = get_user_model()
        if not User.objects.filter(username="staff").exists():
            User.objects.create_superuser("staff", "staff@kpo.localhost", DEMO_PASSWORD)
        self.users["staff"] = User.objects.get(username="staff")
        for username, role, org, first, last in USERS:
            side = {"client": clients.get(org), "provider": providers.get(org)}
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username,
                    f"{username}@{org}.example",
                    DEMO_PASSWORD,
                    first_name=first,
                    last_name=last,
                    role=role,
                    **side,
                )
                self.log(f"  user {username}")
            self.users[username] = user

    def _two_factor(self):
        key = two_factor.key_from_text(DEMO_TOTP_SECRET)
        for username in DEMO_ADMINS:
            user = self.users[username]
            # An admin who has since set up an app of their own keeps just that one.
            if not two_factor.has_device(user):
                TOTPDevice.objects.create(user=user, name=DEMO_TOTP_DEVICE, key=key, confirmed=True)
                self.log(f"  two-factor device of {username}")

    def _certifications(self, providers):
        for slug, admin, kind in (
            ("bio-analytics", "bio.admin", "iso_27001"),
            ("ledger-research", "ledger.admin", "soc_2"),
        ):
            if not Certification.objects.filter(provider=providers[slug], kind=kind).exists():
                vendor_services.certification_add(
                    actor=self.users[admin],
                    provider=providers[slug],
                    kind=kind,
                    issued_on=self.today - timedelta(days=30),
                    expires_on=self.today + timedelta(days=365),
                    reference=f"{kind.upper()}-{slug}",
                )

    def _approvals(self, clients, providers):
        wanted = [
            ("alpha-pharma", "alpha.admin", "bio-analytics", "approved", "low"),
            ("northwind", None, "ledger-research", "approved", "medium"),
            ("alpha-pharma", "alpha.admin", "ledger-research", "pending", "medium"),
        ]
        for client_slug, admin, provider_slug, status, risk in wanted:
            client, provider = clients[client_slug], providers[provider_slug]
            if VendorApproval.objects.filter(client=client, provider=provider).exists():
                continue
            values = {"status": status, "risk_tier": risk, "notes": "Demo due diligence."}
            if status == "approved":
                values |= {
                    "assessed_on": self.today - timedelta(days=60),
                    "expires_on": self.today + timedelta(days=305),
                }
            if admin:
                vendor_services.vendor_approval_create(
                    actor=self.users[admin], provider=provider, **values
                )
            else:
                # Northwind has no client admin in the demo: its verdict was recorded by staff.
                VendorApproval.objects.create(client=client, provider=provider, **values)

    def _teams(self, providers):
        teams = {}
        specs = [
            ("bio.admin", "Biostatistics", "bio.lead", ["bio.analyst", "bio.qa"]),
            ("bio.admin", "Medical Writing", None, ["bio.writer"]),
            ("ledger.admin", "EU Banks", None, ["ledger.analyst"]),
        ]
        for admin, name, lead, members in specs:
            actor = self.users[admin]
            team = AnalystTeam.objects.filter(provider_id=actor.provider_id, name=name).first()
            if team is None:
                team = vendor_services.team_create(
                    actor=actor,
                    name=name,
                    lead=self.users[lead] if lead else None,
                    members=[self.users[m] for m in members],
                )
            teams[name] = team
        return teams

    def _phase_two(self, clients, providers, teams):
        title = "Phase II oncology trial analysis"
        if Engagement.objects.filter(client=clients["alpha-pharma"], title=title).exists():
            return
        u = self.users
        manager = u["alpha.manager"]
        engagement = engagement_services.engagement_create(
            actor=manager,
            provider=providers["bio-analytics"],
            service_line=ServiceLine.objects.get(slug="clinical_data_analysis"),
            title=title,
            brief="Primary and secondary efficacy endpoints, safety signals and subgroup "
            "response for the Phase II oncology trial ONC-221.",
            start_date=self.today - timedelta(days=45),
            end_date=self.today + timedelta(days=120),
            budget=Decimal("240000.00"),
            currency="USD",
            pricing_model="dedicated_team",
            confidentiality="confidential",
            qa_required=True,
            reminder_lead_hours=24,
            review_turnaround_hours=72,
            quality_threshold=Decimal("3.50"),
        )
        engagement_services.engagement_grant_access(
            actor=manager, engagement=engagement, user=u["alpha.viewer"]
        )
        engagement_services.engagement_propose(actor=manager, engagement=engagement)
        engagement_services.engagement_accept(actor=u["bio.admin"], engagement=engagement)
        engagement_services.engagement_assign_lead(
            actor=u["bio.admin"], engagement=engagement, lead=u["bio.lead"]
        )
        engagement_services.engagement_assign_team(
            actor=u["bio.lead"], engagement=engagement, team=teams["Biostatistics"]
        )
        document_file = _pdf("ONC-221 protocol v3.pdf")
        engagement_services.document_upload(
            actor=manager,
            engagement=engagement,
            file=document_file,
            title="Trial protocol v3",
            classification="confidential",
        )

        analyst, qa = u["bio.analyst"], u["bio.qa"]

        def plan(title, due, kind="report"):
            return deliverable_services.deliverable_plan(
                actor=manager,
                engagement=engagement,
                title=title,
                due_at=due,
                kind=kind,
                assignee=analyst,
                description=f"{title} for ONC-221.",
            )

        def submit(deliverable, name, notes=""):
            deliverable_services.deliverable_submit(
                actor=analyst, deliverable=deliverable, file=_pdf(name), notes=notes
            )

        sap = plan("Statistical analysis plan", self.now + timedelta(days=2), "memo")
        deliverable_services.deliverable_start(actor=analyst, deliverable=sap)
        submit(sap, "SAP v1.pdf", "Final SAP for sign-off.")
        deliverable_services.deliverable_qa(
            actor=qa, deliverable=sap, decision="pass", comment="Checked against the protocol."
        )
        deliverable_services.deliverable_review(
            actor=manager,
            deliverable=sap,
            decision="accept",
            scores=GOOD_SCORES,
            comment="Clear and complete.",
        )

        interim = plan("Interim efficacy report", self.now + timedelta(days=5))
        deliverable_services.deliverable_start(actor=analyst, deliverable=interim)
        submit(interim, "Interim efficacy v1.pdf")
        deliverable_services.deliverable_qa(actor=qa, deliverable=interim, decision="pass")
        deliverable_services.deliverable_review(
            actor=manager,
            deliverable=interim,
            decision="request_changes",
            scores=MIXED_SCORES,
            comment="Please add the per-protocol population and forest plots.",
        )
        deliverable_services.comment_add(
            actor=analyst,
            deliverable=interim,
            body="Per-protocol tables and forest plots added in version 2.",
        )
        submit(interim, "Interim efficacy v2.pdf", "Adds the per-protocol population.")
        deliverable_services.deliverable_qa(actor=qa, deliverable=interim, decision="pass")

        memo = plan("Safety signal memo", self.now + timedelta(hours=12), "memo")
        deliverable_services.deliverable_start(actor=analyst, deliverable=memo)

        log = plan("Data cleaning log", self.now - timedelta(days=1), "dataset")
        deliverable_services.deliverable_start(actor=analyst, deliverable=log)

        plan("Subgroup response analysis", self.now + timedelta(weeks=3))
        self.log(f"  engagement {engagement.reference} {title}")

    def _real_world_evidence(self, clients, providers):
        title = "Real-world evidence dashboard"
        if Engagement.objects.filter(client=clients["alpha-pharma"], title=title).exists():
            return
        manager = self.users["alpha.manager"]
        engagement = engagement_services.engagement_create(
            actor=manager,
            provider=providers["bio-analytics"],
            service_line=ServiceLine.objects.get(slug="data_analytics"),
            title=title,
            brief="A dashboard of real-world outcomes from claims and registry data.",
            start_date=self.today + timedelta(days=14),
            end_date=self.today + timedelta(days=180),
            budget=Decimal("85000.00"),
            currency="USD",
            pricing_model="fixed_fee",
            confidentiality="confidential",
        )
        engagement_services.engagement_propose(actor=manager, engagement=engagement)
        self.log(f"  engagement {engagement.reference} {title}")

    def _eu_banks(self, clients, providers, teams):
        title = "EU banks equity coverage"
        if Engagement.objects.filter(client=clients["northwind"], title=title).exists():
            return
        u = self.users
        manager, analyst = u["northwind.manager"], u["ledger.analyst"]
        engagement = engagement_services.engagement_create(
            actor=manager,
            provider=providers["ledger-research"],
            service_line=ServiceLine.objects.get(slug="equity_research"),
            title=title,
            brief="Initiation and quarterly updates on twelve EU banks.",
            start_date=self.today - timedelta(days=20),
            end_date=self.today + timedelta(days=340),
            budget=Decimal("120000.00"),
            currency="EUR",
            pricing_model="time_and_materials",
            confidentiality="internal",
            qa_required=False,
            quality_threshold=Decimal("3.00"),
        )
        engagement_services.engagement_propose(actor=manager, engagement=engagement)
        engagement_services.engagement_accept(actor=u["ledger.admin"], engagement=engagement)
        engagement_services.engagement_assign_team(
            actor=u["ledger.admin"], engagement=engagement, team=teams["EU Banks"]
        )
        initiation = deliverable_services.deliverable_plan(
            actor=manager,
            engagement=engagement,
            title="Sector initiation report",
            due_at=self.now + timedelta(days=1),
            assignee=analyst,
        )
        deliverable_services.deliverable_start(actor=analyst, deliverable=initiation)
        deliverable_services.deliverable_submit(
            actor=analyst, deliverable=initiation, file=_pdf("EU banks initiation.pdf")
        )
        deliverable_services.deliverable_review(
            actor=manager,
            deliverable=initiation,
            decision="accept",
            scores=GOOD_SCORES,
        )
        model = deliverable_services.deliverable_plan(
            actor=manager,
            engagement=engagement,
            title="Q4 earnings model",
            kind="model",
            due_at=self.now + timedelta(days=10),
            assignee=analyst,
        )
        deliverable_services.deliverable_start(actor=analyst, deliverable=model)
        self.log(f"  engagement {engagement.reference} {title}")
