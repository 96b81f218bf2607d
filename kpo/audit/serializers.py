from rest_framework import serializers

from .models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    target_type = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_repr",
            "action",
            "target_type",
            "target_id",
            "target_repr",
            "engagement",
            "changes",
            "ip",
        ]
        read_only_fields = fields

    def get_target_type(self, event) -> str | None:
        return event.target_type.model if event.target_type_id else None
