from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from kpo.rest import DOWNLOAD_RENDERERS, UploadParser, created

from . import selectors, services
from .filtersets import DeliverableFilterSet
from .models import Deliverable, Submission
from .serializers import (
    ClientReviewSerializer,
    CommentSerializer,
    DeliverableCreateSerializer,
    DeliverableSerializer,
    DeliverableUpdateSerializer,
    KnowledgeItemSerializer,
    QaSerializer,
    ReviewSerializer,
    SubmissionSerializer,
    SubmissionUploadSerializer,
)

ERRORS = {
    400: OpenApiResponse(description="Invalid input"),
    403: OpenApiResponse(description="Visible but not allowed for this role"),
    404: OpenApiResponse(description="Not found"),
    409: OpenApiResponse(description="Not allowed in the deliverable's current state"),
}


class DeliverableViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Work the provider owes, with its versions, reviews and discussion."""

    serializer_class = DeliverableSerializer
    filterset_class = DeliverableFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return Deliverable.objects.restrict(self.request.user, "view").order_by("due_at", "id")

    def _page(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    def _respond(self, deliverable):
        return Response(DeliverableSerializer(deliverable).data)

    @extend_schema(
        request=DeliverableCreateSerializer, responses={201: DeliverableSerializer, **ERRORS}
    )
    def create(self, request, *args, **kwargs):
        serializer = DeliverableCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        deliverable = services.deliverable_plan(actor=request.user, **serializer.validated_data)
        return created(DeliverableSerializer, deliverable, self.get_serializer_context())

    @extend_schema(
        request=DeliverableUpdateSerializer, responses={200: DeliverableSerializer, **ERRORS}
    )
    def partial_update(self, request, *args, **kwargs):
        deliverable = self.get_object()
        serializer = DeliverableUpdateSerializer(deliverable, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        deliverable = services.deliverable_update(
            actor=request.user, deliverable=deliverable, **serializer.validated_data
        )
        return self._respond(deliverable)

    @extend_schema(request=None, responses={200: DeliverableSerializer, **ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[])
    def start(self, request, pk=None):
        """`planned` → `in_progress`."""
        return self._respond(
            services.deliverable_start(actor=request.user, deliverable=self.get_object())
        )

    @extend_schema(request=None, responses={200: DeliverableSerializer, **ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[])
    def cancel(self, request, pk=None):
        """Any open state → `cancelled`."""
        return self._respond(
            services.deliverable_cancel(actor=request.user, deliverable=self.get_object())
        )

    @extend_schema(methods=["get"], responses=SubmissionSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request={"multipart/form-data": SubmissionUploadSerializer},
        responses={201: SubmissionSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        parser_classes=[UploadParser],
    )
    def submissions(self, request, pk=None):
        """The versions of the deliverable; POST uploads the next one."""
        deliverable = self.get_object()
        if request.method == "GET":
            return self._page(deliverable.submissions.order_by("version"), SubmissionSerializer)
        serializer = SubmissionUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        submission = services.deliverable_submit(
            actor=request.user, deliverable=deliverable, **serializer.validated_data
        )
        return created(SubmissionSerializer, submission, self.get_serializer_context())

    @extend_schema(request=QaSerializer, responses={201: ReviewSerializer, **ERRORS})
    @action(detail=True, methods=["post"], filter_backends=[])
    def qa(self, request, pk=None):
        """Provider QA: pass to the client, or return to the analyst."""
        deliverable = self.get_object()
        serializer = QaSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.deliverable_qa(
            actor=request.user, deliverable=deliverable, **serializer.validated_data
        )
        return created(ReviewSerializer, review, self.get_serializer_context())

    @extend_schema(methods=["get"], responses=ReviewSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request=ClientReviewSerializer,
        responses={201: ReviewSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def reviews(self, request, pk=None):
        """QA checks and client reviews; POST records a client review."""
        deliverable = self.get_object()
        if request.method == "GET":
            return self._page(deliverable.reviews.order_by("created_at", "id"), ReviewSerializer)
        serializer = ClientReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.deliverable_review(
            actor=request.user, deliverable=deliverable, **serializer.validated_data
        )
        return created(ReviewSerializer, review, self.get_serializer_context())

    @extend_schema(methods=["get"], responses=CommentSerializer(many=True))
    @extend_schema(
        methods=["post"], request=CommentSerializer, responses={201: CommentSerializer, **ERRORS}
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def comments(self, request, pk=None):
        """The deliverable's discussion."""
        deliverable = self.get_object()
        if request.method == "GET":
            return self._page(deliverable.comments.order_by("created_at", "id"), CommentSerializer)
        serializer = CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = services.comment_add(
            actor=request.user, deliverable=deliverable, body=serializer.validated_data["body"]
        )
        return created(CommentSerializer, comment, self.get_serializer_context())


class SubmissionViewSet(viewsets.GenericViewSet):
    """Downloads of submitted versions, each one audited."""

    serializer_class = SubmissionSerializer

    def get_queryset(self):
        return Submission.objects.restrict(self.request.user, "view").select_related(
            "deliverable__engagement"
        )

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file"),
            404: None,
        }
    )
    @action(detail=True, methods=["get"], renderer_classes=DOWNLOAD_RENDERERS)
    def download(self, request, pk=None):
        submission = self.get_object()
        handle = services.submission_download(actor=request.user, submission=submission)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=submission.filename,
            content_type=submission.content_type,
        )


@extend_schema(parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="Search words")])
class KnowledgeView(ListAPIView):
    """Full-text search over the accepted deliverables the caller may see."""

    serializer_class = KnowledgeItemSerializer
    filter_backends = []

    def get_queryset(self):
        query = self.request.query_params.get("q", "")
        # PostgreSQL refuses NUL in any string; without this check it would be a 500.
        if "\x00" in query:
            raise ValidationError({"q": ["Search words cannot contain NUL characters."]})
        return selectors.knowledge_search(self.request.user, query)
