from rest_framework import serializers

from .choices import NotificationKind
from .models import Notification, OutboxMessage, Webhook


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "url",
            "engagement",
            "deliverable",
            "created_at",
            "read_at",
        ]
        read_only_fields = fields


class WebhookSerializer(serializers.ModelSerializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=NotificationKind.choices),
        allow_empty=False,
        max_length=len(NotificationKind.values),
    )
    secret = serializers.CharField(write_only=True, min_length=16, max_length=200)

    class Meta:
        model = Webhook
        fields = [
            "id",
            "url",
            "events",
            "secret",
            "active",
            "consecutive_failures",
            "disabled_at",
            "created_at",
        ]
        read_only_fields = ["id", "consecutive_failures", "disabled_at", "created_at"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    delivery_id = serializers.SerializerMethodField()

    class Meta:
        model = OutboxMessage
        fields = [
            "id",
            "delivery_id",
            "event",
            "status",
            "attempts",
            "response_status",
            "last_error",
            "created_at",
            "next_attempt_at",
            "sent_at",
        ]
        read_only_fields = fields

    def get_delivery_id(self, message) -> str:
        return message.payload.get("id", "")
