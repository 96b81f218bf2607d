from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from kpo.access import policy
from kpo.audit.models import AuditEvent
from kpo.audit.serializers import AuditEventSerializer
from kpo.rest import DOWNLOAD_RENDERERS, CursorPagination, UploadParser, created

from . import services
from .filtersets import DocumentFilterSet, EngagementFilterSet
from .models import Document, Engagement
from .serializers import (
    CLIENT_SIDE_FIELDS,
    PROVIDER_SIDE_FIELDS,
    DocumentSerializer,
    DocumentUploadSerializer,
    EngagementSerializer,
    EngagementUpdateSerializer,
    EngagementWriteSerializer,
    TransitionSerializer,
)

TRANSITIONS = {
    "propose": services.engagement_propose,
    "accept": services.engagement_accept,
    "decline": services.engagement_decline,
    "hold": services.engagement_hold,
    "resume": services.engagement_resume,
    "complete": services.engagement_complete,
    "terminate": services.engagement_terminate,
}
# Transitions whose service records an optional reason.
WITH_REASON = {"decline", "hold", "terminate"}
TRANSITION_ERRORS = {
    400: OpenApiResponse(description="Invalid input"),
    403: OpenApiResponse(description="Visible but not allowed for this role"),
    404: OpenApiResponse(description="Not found"),
    409: OpenApiResponse(description="Not allowed in the engagement's current state"),
}


class EngagementViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Statements of work. Clients write the terms, providers the staffing."""

    serializer_class = EngagementSerializer
    filterset_class = EngagementFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        engagements = Engagement.objects.restrict(self.request.user, "view")
        if self.action == "audit":
            # Only the engagement's identity is needed to list its events.
            return engagements.only("pk", "client_id", "provider_id", "status")
        return (
            engagements.select_related("service_line")
            .prefetch_related("teams")
            .order_by("-created_at", "-id")
        )

    @extend_schema(request=EngagementWriteSerializer, responses={201: EngagementSerializer})
    def create(self, request, *args, **kwargs):
        if not policy.role_may(request.user, "create_engagement"):
            raise PermissionDenied("Only client admins and managers create engagements.")
        serializer = EngagementWriteSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        engagement = services.engagement_create(actor=request.user, **serializer.validated_data)
        return created(EngagementSerializer, engagement, self.get_serializer_context())

    @extend_schema(
        request=EngagementUpdateSerializer,
        responses={200: EngagementSerializer, **TRANSITION_ERRORS},
    )
    def partial_update(self, request, *args, **kwargs):
        engagement = self.get_object()
        actor = request.user
        # Each side's fields are refused before they are validated: whether a team id exists
        # is none of the client's business.
        other_side = PROVIDER_SIDE_FIELDS if actor.client_id else CLIENT_SIDE_FIELDS
        sent = set(request.data) if hasattr(request.data, "keys") else set()
        intruding = sorted(sent & other_side)
        if intruding and not actor.is_superuser:
            side = "provider" if actor.client_id else "client"
            raise PermissionDenied(f"Only the {side} sets {', '.join(intruding)}.")
        serializer = EngagementUpdateSerializer(
            engagement, data=request.data, partial=True, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if actor.client_id or actor.is_superuser:
            engagement = services.engagement_update(actor=actor, engagement=engagement, **data)
        else:
            if "provider_lead" in data:
                engagement = services.engagement_assign_lead(
                    actor=actor, engagement=engagement, lead=data["provider_lead"]
                )
            if "teams" in data:
                engagement = services.engagement_set_teams(
                    actor=actor, engagement=engagement, teams=data["teams"]
                )
            if not data:
                policy.require(actor, "assign_teams", engagement)
        return Response(self.get_serializer(self.get_queryset().get(pk=engagement.pk)).data)

    def _transition(self, request, name):
        engagement = self.get_object()
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        extra = (
            {"reason": serializer.validated_data.get("reason", "")} if name in WITH_REASON else {}
        )
        engagement = TRANSITIONS[name](actor=request.user, engagement=engagement, **extra)
        # Not re-read through the caller's queryset: a declined proposal is a draft again,
        # which the provider no longer sees, yet the answer must still describe it.
        return Response(self.get_serializer(engagement).data)

    def _transition_action(name, summary):
        def transition(self, request, pk=None):
            return self._transition(request, name)

        # The router maps the HTTP method to the view attribute of this name.
        transition.__name__ = name
        transition = action(detail=True, methods=["post"], filter_backends=[])(transition)
        return extend_schema(
            summary=summary,
            request=TransitionSerializer,
            responses={200: EngagementSerializer, **TRANSITION_ERRORS},
        )(transition)

    propose = _transition_action("propose", "Send a draft to the provider")
    accept = _transition_action("accept", "Provider accepts a proposal (vendor-approval gate)")
    decline = _transition_action("decline", "Provider declines a proposal; back to draft")
    hold = _transition_action("hold", "Pause the work; SLA clocks stop")
    resume = _transition_action("resume", "Resume held work; due times move by the hold")
    complete = _transition_action("complete", "Close as delivered")
    terminate = _transition_action("terminate", "End early; open deliverables are cancelled")
    del _transition_action

    @extend_schema(responses={200: AuditEventSerializer(many=True), 403: None, 404: None})
    @action(detail=True, methods=["get"], pagination_class=CursorPagination, filter_backends=[])
    def audit(self, request, pk=None):
        """Audit events of the engagement and everything in it, newest first."""
        engagement = self.get_object()
        policy.require(request.user, "read_audit", engagement)
        events = AuditEvent.objects.filter(engagement=engagement).select_related("target_type")
        page = self.paginate_queryset(events)
        return self.get_paginated_response(AuditEventSerializer(page, many=True).data)


class DocumentViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """The data room: input files the client shares with the provider."""

    serializer_class = DocumentSerializer
    filterset_class = DocumentFilterSet

    def get_queryset(self):
        return Document.objects.restrict(self.request.user, "view").order_by("-uploaded_at", "-id")

    parser_classes = [UploadParser]

    @extend_schema(
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: DocumentSerializer, 400: None, 403: None},
    )
    def create(self, request, *args, **kwargs):
        serializer = DocumentUploadSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        document = services.document_upload(actor=request.user, **serializer.validated_data)
        return created(DocumentSerializer, document, self.get_serializer_context())

    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(description="The file")}
    )
    @action(detail=True, methods=["get"], filter_backends=[], renderer_classes=DOWNLOAD_RENDERERS)
    def download(self, request, pk=None):
        document = self.get_object()
        handle = services.document_download(actor=request.user, document=document)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=document.filename,
            content_type=document.content_type,
        )
