"""The vendor-approval gate: a client activates (or resumes) an engagement only with a
provider it has approved, whose approval has not expired; restricted work also needs an
unexpired ISO 27001 or SOC 2 certificate."""

from datetime import timedelta

import pytest
from django.utils import timezone

from engagements import services
from engagements.choices import Confidentiality, EngagementStatus
from kpo.domain import InvalidTransition
from vendors import services as vendor_services
from vendors.choices import ApprovalStatus, CertificationKind
from vendors.models import Certification, VendorApproval

S = EngagementStatus


def approval(client_slug, provider_slug):
    return VendorApproval.objects.get(client__slug=client_slug, provider__slug=provider_slug)


def test_alpha_cannot_activate_work_with_ledger_while_its_assessment_is_pending(
    users, new_engagement, snapshot
):
    # Northwind's approval of Ledger is no approval by Alpha.
    assert approval("northwind", "ledger-research").status == ApprovalStatus.APPROVED
    assert approval("alpha-pharma", "ledger-research").status == ApprovalStatus.PENDING
    engagement = new_engagement(S.PROPOSED, provider_slug="ledger-research", line="credit_analysis")
    before = snapshot(engagement)

    with pytest.raises(InvalidTransition, match="approved"):
        services.engagement_accept(actor=users.ledger_admin, engagement=engagement)

    assert snapshot(engagement) == before


@pytest.mark.parametrize(
    ("verdict", "activates"),
    [
        (ApprovalStatus.APPROVED, True),
        (ApprovalStatus.CONDITIONAL, True),
        (ApprovalStatus.PENDING, False),
        (ApprovalStatus.REJECTED, False),
    ],
)
def test_only_an_approved_or_conditional_verdict_opens_the_gate(
    users, new_engagement, snapshot, verdict, activates
):
    today = timezone.localdate()
    vendor_services.vendor_approval_update(
        actor=users.alpha_admin,
        approval=approval("alpha-pharma", "ledger-research"),
        status=verdict,
        assessed_on=today,
        expires_on=today + timedelta(days=365),
    )
    engagement = new_engagement(S.PROPOSED, provider_slug="ledger-research", line="credit_analysis")
    before = snapshot(engagement)

    if activates:
        services.engagement_accept(actor=users.ledger_admin, engagement=engagement)
        assert snapshot(engagement)["status"] == S.ACTIVE
    else:
        with pytest.raises(InvalidTransition):
            services.engagement_accept(actor=users.ledger_admin, engagement=engagement)
        assert snapshot(engagement) == before


def test_without_any_assessment_the_engagement_cannot_become_active(
    users, new_engagement, lexpoint_admin, snapshot
):
    assert not VendorApproval.objects.filter(provider__slug="lexpoint").exists()
    engagement = new_engagement(S.PROPOSED, provider_slug="lexpoint", line="legal_research")
    before = snapshot(engagement)

    with pytest.raises(InvalidTransition):
        services.engagement_accept(actor=lexpoint_admin, engagement=engagement)

    assert snapshot(engagement) == before


def test_an_expired_approval_is_refused(users, new_engagement, snapshot):
    yesterday = timezone.localdate() - timedelta(days=1)
    vendor_services.vendor_approval_update(
        actor=users.alpha_admin,
        approval=approval("alpha-pharma", "bio-analytics"),
        expires_on=yesterday,
    )
    engagement = new_engagement(S.PROPOSED)
    before = snapshot(engagement)

    with pytest.raises(InvalidTransition, match="expired"):
        services.engagement_accept(actor=users.bio_admin, engagement=engagement)

    assert snapshot(engagement) == before


def test_an_approval_is_still_in_force_on_its_expiry_date(users, new_engagement):
    vendor_services.vendor_approval_update(
        actor=users.alpha_admin,
        approval=approval("alpha-pharma", "bio-analytics"),
        expires_on=timezone.localdate(),
    )
    engagement = new_engagement(S.PROPOSED)

    services.engagement_accept(actor=users.bio_admin, engagement=engagement)

    engagement.refresh_from_db()
    assert engagement.status == S.ACTIVE


def test_restricted_work_activates_with_a_provider_holding_a_valid_iso_27001(users, new_engagement):
    engagement = new_engagement(S.ACTIVE, confidentiality=Confidentiality.RESTRICTED)

    assert engagement.status == S.ACTIVE


def expire_certificates(provider_slug, *, on):
    # Certificates have no "renew/lapse" service: they lapse with the calendar. Moving the
    # expiry date is how a test makes one lapse without waiting a year.
    Certification.objects.filter(provider__slug=provider_slug).update(expires_on=on)


def test_restricted_work_is_refused_once_the_providers_certificate_has_expired(
    users, new_engagement, snapshot
):
    expire_certificates("bio-analytics", on=timezone.localdate() - timedelta(days=1))
    engagement = new_engagement(S.PROPOSED, confidentiality=Confidentiality.RESTRICTED)
    before = snapshot(engagement)

    with pytest.raises(InvalidTransition, match="ISO 27001 or SOC 2"):
        services.engagement_accept(actor=users.bio_admin, engagement=engagement)

    assert snapshot(engagement) == before


def test_confidential_work_does_not_need_a_certificate(users, new_engagement):
    expire_certificates("bio-analytics", on=timezone.localdate() - timedelta(days=1))

    engagement = new_engagement(S.ACTIVE, confidentiality=Confidentiality.CONFIDENTIAL)

    assert engagement.status == S.ACTIVE


def test_a_certificate_is_still_valid_on_its_expiry_date(users, new_engagement):
    expire_certificates("bio-analytics", on=timezone.localdate())

    engagement = new_engagement(S.ACTIVE, confidentiality=Confidentiality.RESTRICTED)

    assert engagement.status == S.ACTIVE


@pytest.fixture
def lexpoint_approved(users, lexpoint_admin, provider):
    today = timezone.localdate()
    vendor_services.vendor_approval_create(
        actor=users.alpha_admin,
        provider=provider("lexpoint"),
        status=ApprovalStatus.APPROVED,
        assessed_on=today,
        expires_on=today + timedelta(days=365),
    )
    return lexpoint_admin


@pytest.mark.parametrize(
    ("kind", "activates"),
    [
        (CertificationKind.HIPAA, False),
        (CertificationKind.GDPR, False),
        (CertificationKind.ISO_27001, True),
        (CertificationKind.SOC_2, True),
    ],
)
def test_only_iso_27001_or_soc_2_qualify_for_restricted_work(
    new_engagement, lexpoint_approved, provider, snapshot, kind, activates
):
    today = timezone.localdate()
    vendor_services.certification_add(
        actor=lexpoint_approved,
        provider=provider("lexpoint"),
        kind=kind,
        issued_on=today - timedelta(days=10),
        expires_on=today + timedelta(days=365),
    )
    engagement = new_engagement(
        S.PROPOSED,
        provider_slug="lexpoint",
        line="ip_research",
        confidentiality=Confidentiality.RESTRICTED,
    )
    before = snapshot(engagement)

    if activates:
        services.engagement_accept(actor=lexpoint_approved, engagement=engagement)
        assert snapshot(engagement)["status"] == S.ACTIVE
    else:
        with pytest.raises(InvalidTransition):
            services.engagement_accept(actor=lexpoint_approved, engagement=engagement)
        assert snapshot(engagement) == before


def test_an_uncertified_provider_is_refused_restricted_work_even_when_approved(
    new_engagement, lexpoint_approved, snapshot
):
    engagement = new_engagement(
        S.PROPOSED,
        provider_slug="lexpoint",
        line="legal_research",
        confidentiality=Confidentiality.RESTRICTED,
    )
    before = snapshot(engagement)

    with pytest.raises(InvalidTransition):
        services.engagement_accept(actor=lexpoint_approved, engagement=engagement)

    assert snapshot(engagement) == before


def test_resuming_checks_the_gate_again(users, engagements, snapshot):
    engagement = services.engagement_hold(
        actor=users.alpha_manager, engagement=engagements.phase_two
    )
    vendor_services.vendor_approval_update(
        actor=users.alpha_admin,
        approval=approval("alpha-pharma", "bio-analytics"),
        status=ApprovalStatus.REJECTED,
    )
    before = snapshot(engagement)

    with pytest.raises(InvalidTransition):
        services.engagement_resume(actor=users.alpha_manager, engagement=engagement)

    assert snapshot(engagement) == before
    assert before["status"] == S.ON_HOLD


def test_resuming_restricted_work_needs_a_certificate_still_in_force(
    users, new_engagement, snapshot
):
    engagement = new_engagement(S.ON_HOLD, confidentiality=Confidentiality.RESTRICTED)
    expire_certificates("bio-analytics", on=timezone.localdate() - timedelta(days=1))
    before = snapshot(engagement)

    with pytest.raises(InvalidTransition):
        services.engagement_resume(actor=users.alpha_manager, engagement=engagement)

    assert snapshot(engagement) == before
