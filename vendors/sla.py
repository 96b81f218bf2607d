"""Expiry warnings for certifications and vendor approvals (part of the SLA engine)."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kpo.accounts.choices import Role
from kpo.notifications.choices import NotificationKind
from kpo.notifications.services import Event, publish

from .choices import ENGAGEABLE_APPROVALS
from .models import Certification, VendorApproval

WARNING_DAYS = 30


def run_expiry_sweep(today=None) -> dict:
    """Warn 30 days ahead: the provider admins and every client admin who approved the
    provider about a certificate; the client admins about their own approval. Keys carry the
    expiry date, so each warning goes out once per expiry date however often this runs."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=WARNING_DAYS)
    User = get_user_model()
    certificates = list(
        Certification.objects.filter(expires_on__gte=today, expires_on__lte=horizon).select_related(
            "provider"
        )
    )
    approvals = list(
        VendorApproval.objects.filter(
            expires_on__gte=today, expires_on__lte=horizon, status__in=ENGAGEABLE_APPROVALS
        ).select_related("client", "provider")
    )
    provider_ids = {c.provider_id for c in certificates}
    approving = {}
    for approval in VendorApproval.objects.filter(
        provider_id__in=provider_ids, status__in=ENGAGEABLE_APPROVALS
    ).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today)):
        approving.setdefault(approval.provider_id, set()).add(approval.client_id)
    client_ids = {c for ids in approving.values() for c in ids} | {a.client_id for a in approvals}
    admins = User.objects.filter(is_active=True).filter(
        Q(role=Role.PROVIDER_ADMIN, provider_id__in=provider_ids)
        | Q(role=Role.CLIENT_ADMIN, client_id__in=client_ids)
    )
    provider_admins, client_admins = {}, {}
    for admin in admins:
        if admin.provider_id:
            provider_admins.setdefault(admin.provider_id, []).append(admin)
        else:
            client_admins.setdefault(admin.client_id, []).append(admin)

    events = []
    for cert in certificates:
        recipients = list(provider_admins.get(cert.provider_id, []))
        for client_id in approving.get(cert.provider_id, ()):
            recipients += client_admins.get(client_id, [])
        events.append(
            Event(
                kind=NotificationKind.CERTIFICATION_EXPIRING,
                recipients=recipients,
                key=f"certification_expiring:{cert.pk}:{cert.expires_on.isoformat()}",
                title=f"{cert.provider}'s {cert.get_kind_display()} certificate expires on "
                f"{cert.expires_on:%d %b %Y}",
                body="Restricted engagements need an unexpired ISO 27001 or SOC 2 certificate.",
            )
        )
    for approval in approvals:
        events.append(
            Event(
                kind=NotificationKind.APPROVAL_EXPIRING,
                recipients=client_admins.get(approval.client_id, []),
                key=f"approval_expiring:{approval.pk}:{approval.expires_on.isoformat()}",
                title=f"Your approval of {approval.provider} expires on "
                f"{approval.expires_on:%d %b %Y}",
                body="Renew the due diligence to keep engagements with this provider active.",
            )
        )
    with transaction.atomic():
        outbox = publish([e for e in events if e.recipients])
    return {"certifications": len(certificates), "approvals": len(approvals), "outbox": outbox}
