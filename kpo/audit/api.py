from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from kpo.access import policy
from kpo.rest import CursorPagination

from .filtersets import AuditEventFilterSet
from .selectors import organisation_trail
from .serializers import AuditEventSerializer


@extend_schema_view(list=extend_schema(responses={200: AuditEventSerializer(many=True), 403: None}))
class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's organisation trail, newest first (client and provider admins; staff see
    every organisation's). Read-only: nothing writes to the trail but the services."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilterSet
    pagination_class = CursorPagination

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        policy.require_organisation_action(request.user, "organisation_audit")

    def get_queryset(self):
        return organisation_trail(self.request.user).select_related("target_type")
