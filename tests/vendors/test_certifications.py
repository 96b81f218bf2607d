"""A provider's attestations."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kpo.domain import ActionNotAllowed, BusinessRuleViolation, NotVisible
from vendors import services
from vendors.choices import CertificationKind
from vendors.models import Certification


def test_a_provider_admin_records_a_certificate(users, provider):
    today = timezone.localdate()

    certificate = services.certification_add(
        actor=users.bio_admin,
        provider=provider("bio-analytics"),
        kind=CertificationKind.HIPAA,
        issued_on=today - timedelta(days=1),
        expires_on=today + timedelta(days=364),
        reference="HIPAA-2026-17",
    )

    certificate.refresh_from_db()
    assert certificate.provider.slug == "bio-analytics"
    assert certificate.kind == CertificationKind.HIPAA
    assert certificate.reference == "HIPAA-2026-17"


@pytest.mark.parametrize("days", [0, -1])
def test_a_certificate_must_expire_after_it_was_issued(users, provider, days):
    today = timezone.localdate()
    count = Certification.objects.count()

    with pytest.raises(BusinessRuleViolation):
        services.certification_add(
            actor=users.bio_admin,
            provider=provider("bio-analytics"),
            kind=CertificationKind.GDPR,
            issued_on=today,
            expires_on=today + timedelta(days=days),
        )

    assert Certification.objects.count() == count


def test_a_provider_admin_cannot_certify_another_provider(users, provider):
    today = timezone.localdate()
    count = Certification.objects.count()

    with pytest.raises(NotVisible):
        services.certification_add(
            actor=users.bio_admin,
            provider=provider("lexpoint"),
            kind=CertificationKind.ISO_27001,
            issued_on=today,
            expires_on=today + timedelta(days=365),
        )

    assert Certification.objects.count() == count


@pytest.mark.parametrize("username", ["bio.lead", "alpha.admin"])
def test_only_provider_admins_record_certificates(users, provider, username):
    today = timezone.localdate()
    count = Certification.objects.count()

    with pytest.raises(ActionNotAllowed):
        services.certification_add(
            actor=users[username],
            provider=provider("bio-analytics"),
            kind=CertificationKind.ISO_27001,
            issued_on=today,
            expires_on=today + timedelta(days=365),
        )

    assert Certification.objects.count() == count
