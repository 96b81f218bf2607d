from rest_framework import serializers, viewsets

from engagements.models import Client, Engagement


class ClientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", "name", "slug", "industry"]


class ClientViewSet(viewsets.ReadOnlyModelViewSet):
    """The caller's own client; provider users see the clients they work for; staff all."""

    serializer_class = ClientSerializer
    queryset = Client.objects.none()  # for the schema; get_queryset() decides

    def get_queryset(self):
        user = self.request.user
        if user.is_superuser:
            return Client.objects.order_by("name")
        if user.client_id:
            return Client.objects.filter(pk=user.client_id)
        visible = Engagement.objects.restrict(user, "view").values("client_id")
        return Client.objects.filter(pk__in=visible).order_by("name")
