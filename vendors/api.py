from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from engagements.models import Engagement
from kpo.access import policy
from kpo.rest import created

from . import selectors, services
from .models import AnalystTeam, Provider, ServiceLine, VendorApproval
from .serializers import (
    ProviderSerializer,
    ScorecardSerializer,
    ServiceLineSerializer,
    TeamSerializer,
    VendorApprovalSerializer,
    VendorApprovalUpdateSerializer,
)


class ServiceLineViewSet(viewsets.ReadOnlyModelViewSet):
    """The fixed catalogue of service lines."""

    queryset = ServiceLine.objects.order_by("name")
    serializer_class = ServiceLineSerializer


class ProviderViewSet(viewsets.ReadOnlyModelViewSet):
    """Providers a client may engage (every active one), or the caller's own firm."""

    serializer_class = ProviderSerializer
    queryset = Provider.objects.none()  # for the schema; get_queryset() decides

    @extend_schema(responses=ScorecardSerializer)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def scorecard(self, request, pk=None):
        """Delivery record computed only from engagements the caller may see."""
        provider = self.get_object()
        return Response(selectors.provider_scorecard(request.user, provider))

    def get_queryset(self):
        providers = selectors.providers_for(self.request.user).order_by("name", "id")
        # The scorecard needs the provider's id, not its service lines.
        return providers.prefetch_related(None) if self.action == "scorecard" else providers


class VendorApprovalViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """A client's due-diligence verdicts. Client users read them; client admins decide."""

    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = VendorApproval.objects.none()  # for the schema; get_queryset() decides

    def get_queryset(self):
        user = self.request.user
        approvals = (
            VendorApproval.objects.all() if user.is_superuser else selectors.own_approvals(user)
        )
        return approvals.select_related("provider").order_by("provider__name")

    def get_serializer_class(self):
        if self.action == "partial_update":
            return VendorApprovalUpdateSerializer
        return VendorApprovalSerializer

    def _require_admin(self):
        if not policy.role_may(self.request.user, "vendor_approvals"):
            raise PermissionDenied("Only client admins manage vendor approvals.")

    def create(self, request, *args, **kwargs):
        self._require_admin()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        approval = services.vendor_approval_create(actor=request.user, **serializer.validated_data)
        return created(VendorApprovalSerializer, approval, self.get_serializer_context())

    def partial_update(self, request, *args, **kwargs):
        approval = self.get_object()
        self._require_admin()
        serializer = self.get_serializer(approval, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        approval = services.vendor_approval_update(
            actor=request.user, approval=approval, **serializer.validated_data
        )
        return Response(VendorApprovalSerializer(approval).data)


class TeamViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """A provider's analyst teams. Provider users read them; provider admins manage them.
    Client users see the teams working on their visible engagements."""

    serializer_class = TeamSerializer
    queryset = AnalystTeam.objects.none()  # for the schema; get_queryset() decides
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        user = self.request.user
        if user.is_superuser:
            teams = AnalystTeam.objects.all()
        elif user.provider_id:
            teams = selectors.own_teams(user)
        else:
            visible = Engagement.objects.restrict(user, "view").values("pk")
            teams = AnalystTeam.objects.filter(
                pk__in=AnalystTeam.objects.filter(engagements__in=visible).values("pk")
            )
        return teams.prefetch_related("members").order_by("name", "id")

    def _require_admin(self):
        if not policy.role_may(self.request.user, "manage_teams"):
            raise PermissionDenied("Only provider admins manage teams.")

    def create(self, request, *args, **kwargs):
        self._require_admin()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        team = services.team_create(actor=request.user, **serializer.validated_data)
        return created(TeamSerializer, team, self.get_serializer_context())

    def partial_update(self, request, *args, **kwargs):
        team = self.get_object()
        self._require_admin()
        serializer = self.get_serializer(team, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        actor = request.user
        if "name" in data:
            team = services.team_rename(actor=actor, team=team, name=data["name"])
        if "lead" in data:
            team = services.team_set_lead(actor=actor, team=team, lead=data["lead"])
        if "members" in data:
            team = services.team_set_members(actor=actor, team=team, members=data["members"])
        team = self.get_queryset().get(pk=team.pk)
        return Response(TeamSerializer(team, context=self.get_serializer_context()).data)
