"""A client's due-diligence verdict on a provider: one per pair, dated sensibly."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kpo.audit.models import AuditEvent
from kpo.domain import ActionNotAllowed, BusinessRuleViolation, NotVisible
from vendors import services
from vendors.choices import ApprovalStatus, RiskTier
from vendors.models import VendorApproval


def test_a_client_admin_records_a_verdict_on_a_provider(users, provider):
    today = timezone.localdate()

    approval = services.vendor_approval_create(
        actor=users.alpha_admin,
        provider=provider("lexpoint"),
        status=ApprovalStatus.CONDITIONAL,
        risk_tier=RiskTier.HIGH,
        assessed_on=today,
        expires_on=today + timedelta(days=180),
        notes="Pending a penetration test.",
    )

    approval.refresh_from_db()
    assert approval.client == users.alpha_admin.client
    assert approval.provider.slug == "lexpoint"
    assert approval.status == ApprovalStatus.CONDITIONAL
    assert approval.risk_tier == RiskTier.HIGH
    assert approval.decided_by == users.alpha_admin


def test_a_second_verdict_on_the_same_provider_is_refused(users, provider):
    existing = VendorApproval.objects.get(
        client__slug="alpha-pharma", provider__slug="bio-analytics"
    )
    count = VendorApproval.objects.count()

    with pytest.raises(BusinessRuleViolation) as refused:
        services.vendor_approval_create(
            actor=users.alpha_admin,
            provider=provider("bio-analytics"),
            status=ApprovalStatus.REJECTED,
        )

    assert refused.value.field == "provider"
    assert VendorApproval.objects.count() == count
    existing_after = VendorApproval.objects.get(pk=existing.pk)
    assert existing_after.status == ApprovalStatus.APPROVED


def test_a_verdict_that_expires_before_it_was_assessed_is_refused(users, provider):
    today = timezone.localdate()

    with pytest.raises(BusinessRuleViolation) as refused:
        services.vendor_approval_create(
            actor=users.alpha_admin,
            provider=provider("lexpoint"),
            status=ApprovalStatus.APPROVED,
            assessed_on=today,
            expires_on=today - timedelta(days=1),
        )

    assert refused.value.field == "expires_on"
    assert not VendorApproval.objects.filter(provider__slug="lexpoint").exists()


def test_a_verdict_may_expire_on_the_day_it_was_assessed(users, provider):
    today = timezone.localdate()

    approval = services.vendor_approval_create(
        actor=users.alpha_admin,
        provider=provider("lexpoint"),
        assessed_on=today,
        expires_on=today,
    )

    assert approval.expires_on == today


@pytest.mark.parametrize("username", ["alpha.manager", "alpha.viewer", "bio.admin"])
def test_only_client_admins_record_verdicts(users, provider, username):
    with pytest.raises(ActionNotAllowed):
        services.vendor_approval_create(actor=users[username], provider=provider("lexpoint"))

    assert not VendorApproval.objects.filter(provider__slug="lexpoint").exists()


def pending_ledger():
    return VendorApproval.objects.get(client__slug="alpha-pharma", provider__slug="ledger-research")


def test_updating_a_verdict(users):
    today = timezone.localdate()

    approval = services.vendor_approval_update(
        actor=users.alpha_admin,
        approval=pending_ledger(),
        status=ApprovalStatus.APPROVED,
        risk_tier=RiskTier.LOW,
        assessed_on=today,
        expires_on=today + timedelta(days=365),
    )

    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.APPROVED
    assert approval.risk_tier == RiskTier.LOW
    assert approval.expires_on == today + timedelta(days=365)


def test_moving_the_expiry_before_the_existing_assessment_is_refused(users):
    approval = VendorApproval.objects.get(
        client__slug="alpha-pharma", provider__slug="bio-analytics"
    )

    with pytest.raises(BusinessRuleViolation):
        services.vendor_approval_update(
            actor=users.alpha_admin,
            approval=approval,
            expires_on=approval.assessed_on - timedelta(days=1),
        )

    assert VendorApproval.objects.get(pk=approval.pk).expires_on == approval.expires_on


def test_another_clients_verdict_cannot_be_updated(users):
    northwind = VendorApproval.objects.get(
        client__slug="northwind", provider__slug="ledger-research"
    )

    with pytest.raises(NotVisible):
        services.vendor_approval_update(
            actor=users.alpha_admin, approval=northwind, status=ApprovalStatus.REJECTED
        )

    assert VendorApproval.objects.get(pk=northwind.pk).status == ApprovalStatus.APPROVED


def test_an_update_that_changes_nothing_writes_nothing(users):
    approval = pending_ledger()
    count = AuditEvent.objects.count()

    services.vendor_approval_update(
        actor=users.alpha_admin, approval=approval, status=approval.status
    )

    assert AuditEvent.objects.count() == count
    assert VendorApproval.objects.get(pk=approval.pk).updated_at == approval.updated_at
