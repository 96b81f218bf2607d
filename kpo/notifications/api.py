from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from kpo.access import policy
from kpo.rest import CursorPagination, created

from . import services
from .models import Notification, Webhook
from .serializers import NotificationSerializer, WebhookDeliverySerializer, WebhookSerializer


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's own notifications, newest first."""

    serializer_class = NotificationSerializer
    pagination_class = CursorPagination

    def get_queryset(self):
        return Notification.objects.filter(user_id=self.request.user.pk)

    @extend_schema(request=None, responses={200: NotificationSerializer, 404: None})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        notification = services.notification_mark_read(
            actor=request.user, notification=notification
        )
        return Response(NotificationSerializer(notification).data)


class WebhookViewSet(viewsets.ModelViewSet):
    """Outbound webhook endpoints of the caller's organisation (client or provider admins)."""

    serializer_class = WebhookSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        user = self.request.user
        if not policy.role_may(user, "manage_webhooks"):
            return Webhook.objects.none()
        if user.client_id:
            return Webhook.objects.filter(client_id=user.client_id)
        return Webhook.objects.filter(provider_id=user.provider_id)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not policy.role_may(request.user, "manage_webhooks"):
            raise PermissionDenied("Only client and provider admins manage webhooks.")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = services.webhook_create(actor=request.user, **serializer.validated_data)
        return created(WebhookSerializer, webhook, self.get_serializer_context())

    def partial_update(self, request, *args, **kwargs):
        webhook = self.get_object()
        serializer = self.get_serializer(webhook, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        webhook = services.webhook_update(
            actor=request.user, webhook=webhook, **serializer.validated_data
        )
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(responses={204: OpenApiResponse(description="Deleted"), 404: None})
    def destroy(self, request, *args, **kwargs):
        services.webhook_delete(actor=request.user, webhook=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: WebhookDeliverySerializer(many=True), 403: None, 404: None})
    @action(detail=True, methods=["get"], pagination_class=CursorPagination)
    def deliveries(self, request, pk=None):
        """The delivery log of this endpoint, newest first."""
        webhook = self.get_object()
        page = self.paginate_queryset(webhook.deliveries.all())
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)
