from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    def delete(self):
        raise AppendOnlyError("Audit events are append-only.")

    def bulk_create(self, objs, *args, update_conflicts=False, **kwargs):
        if update_conflicts:
            raise AppendOnlyError("Audit events are append-only.")
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError("Audit events are append-only.")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")

    def restrict(self, user, action: str = "read_audit"):
        from .selectors import restrict_audit_events

        return restrict_audit_events(self, user, action)


class AuditEvent(models.Model):
    """Who did what to which object, when, from where, with what change. Append-only."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_repr = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    # Denormalised scope so that tenant and engagement trails are one indexed range scan.
    engagement = models.ForeignKey(
        "engagements.Engagement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey(
        "engagements.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider = models.ForeignKey(
        "vendors.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        # Related-object access must not offer a way round the append-only queryset.
        base_manager_name = "objects"
        indexes = [
            models.Index(fields=["engagement", "-id"], name="audit_engagement_idx"),
            models.Index(fields=["client", "-id"], name="audit_client_idx"),
            models.Index(fields=["provider", "-id"], name="audit_provider_idx"),
            models.Index(fields=["actor", "-id"], name="audit_actor_idx"),
            # An object's own history (the deliverable page) among an engagement's thousands.
            models.Index(fields=["target_type", "target_id", "-id"], name="audit_target_idx"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_repr or 'system'} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events are append-only.")
