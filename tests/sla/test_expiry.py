"""Expiry warnings, 30 days ahead, once per expiry date: a certificate to the provider's
admins and the admins of every client that approved the provider; a vendor approval to the
client's admins."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kpo.notifications.choices import NotificationKind as K
from kpo.notifications.models import Notification
from vendors import services as vendor_services
from vendors.models import Provider, VendorApproval
from vendors.sla import run_expiry_sweep


def told(kind) -> list[str]:
    return sorted(Notification.objects.filter(kind=kind).values_list("user__username", flat=True))


@pytest.fixture
def certificate(users):
    """`certificate(slug, admin, expires_on)`: a new SOC 2 attestation, added by the
    provider's admin."""

    def add(slug, admin, expires_on):
        return vendor_services.certification_add(
            actor=users[admin],
            provider=Provider.objects.get(slug=slug),
            kind="soc_2",
            issued_on=expires_on - timedelta(days=365),
            expires_on=expires_on,
            reference=f"SOC2-{slug}-{expires_on}",
        )

    return add


@pytest.fixture
def alpha_bio(db):
    return VendorApproval.objects.get(client__slug="alpha-pharma", provider__slug="bio-analytics")


def test_a_certificate_is_warned_about_30_days_before_it_expires(certificate):
    cert = certificate("bio-analytics", "bio.admin", timezone.localdate() + timedelta(days=60))

    run_expiry_sweep(today=cert.expires_on - timedelta(days=31))
    assert told(K.CERTIFICATION_EXPIRING) == []

    run_expiry_sweep(today=cert.expires_on - timedelta(days=30))
    assert told(K.CERTIFICATION_EXPIRING) == ["alpha.admin", "bio.admin"]


def test_the_certificate_warning_goes_to_the_provider_admin_and_approving_client_admins(
    certificate,
):
    cert = certificate("bio-analytics", "bio.admin", timezone.localdate() + timedelta(days=60))

    run_expiry_sweep(today=cert.expires_on - timedelta(days=30))

    (note,) = Notification.objects.filter(kind=K.CERTIFICATION_EXPIRING, user__username="bio.admin")
    assert "Bio-Analytics Solutions" in note.title
    assert f"{cert.expires_on:%d %b %Y}" in note.title
    # Client managers and the rest of the provider are not told.
    assert "alpha.manager" not in told(K.CERTIFICATION_EXPIRING)
    assert "bio.lead" not in told(K.CERTIFICATION_EXPIRING)


def test_a_client_whose_approval_is_only_pending_is_not_told_about_the_certificate(certificate):
    # Alpha's assessment of Ledger is pending; Northwind approved Ledger but has no admin.
    cert = certificate("ledger-research", "ledger.admin", timezone.localdate() + timedelta(days=60))

    run_expiry_sweep(today=cert.expires_on - timedelta(days=10))

    assert told(K.CERTIFICATION_EXPIRING) == ["ledger.admin"]


def test_a_certificate_is_warned_about_once_per_expiry_date(certificate):
    cert = certificate("bio-analytics", "bio.admin", timezone.localdate() + timedelta(days=60))

    for days_left in (30, 30, 29, 5, 0):
        run_expiry_sweep(today=cert.expires_on - timedelta(days=days_left))

    assert told(K.CERTIFICATION_EXPIRING) == ["alpha.admin", "bio.admin"]


def test_an_expired_certificate_is_no_longer_warned_about(certificate):
    cert = certificate("bio-analytics", "bio.admin", timezone.localdate() + timedelta(days=60))

    run_expiry_sweep(today=cert.expires_on + timedelta(days=1))

    assert told(K.CERTIFICATION_EXPIRING) == []


def test_an_approval_is_warned_about_to_the_clients_admins_30_days_ahead(alpha_bio):
    run_expiry_sweep(today=alpha_bio.expires_on - timedelta(days=31))
    assert told(K.APPROVAL_EXPIRING) == []

    run_expiry_sweep(today=alpha_bio.expires_on - timedelta(days=30))

    assert told(K.APPROVAL_EXPIRING) == ["alpha.admin"]
    (note,) = Notification.objects.filter(kind=K.APPROVAL_EXPIRING)
    assert "Bio-Analytics Solutions" in note.title


def test_an_approval_is_warned_about_once_per_expiry_date_and_again_after_renewal(alpha_bio, users):
    for days_left in (30, 30, 1):
        run_expiry_sweep(today=alpha_bio.expires_on - timedelta(days=days_left))
    assert told(K.APPROVAL_EXPIRING) == ["alpha.admin"]

    renewed = vendor_services.vendor_approval_update(
        actor=users.alpha_admin,
        approval=alpha_bio,
        expires_on=alpha_bio.expires_on + timedelta(days=365),
    )
    run_expiry_sweep(today=renewed.expires_on - timedelta(days=30))

    assert told(K.APPROVAL_EXPIRING) == ["alpha.admin", "alpha.admin"]


def test_a_pending_approval_is_not_warned_about(users):
    pending = VendorApproval.objects.get(
        client__slug="alpha-pharma", provider__slug="ledger-research"
    )
    VendorApproval.objects.filter(pk=pending.pk).update(
        expires_on=timezone.localdate() + timedelta(days=10)
    )

    run_expiry_sweep(today=timezone.localdate())

    assert told(K.APPROVAL_EXPIRING) == []
