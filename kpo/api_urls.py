"""/api/v1/: every resource of shared/API.md."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from deliverables.api import DeliverableViewSet, KnowledgeView, SubmissionViewSet
from engagements.api import DocumentViewSet, EngagementViewSet
from kpo.accounts.api import AuthTokenView, ClientViewSet
from kpo.audit.api import AuditEventViewSet
from kpo.notifications.api import NotificationViewSet, WebhookViewSet
from vendors.api import ProviderViewSet, ServiceLineViewSet, TeamViewSet, VendorApprovalViewSet

router = SimpleRouter()
router.register("service-lines", ServiceLineViewSet, basename="service-line")
router.register("clients", ClientViewSet, basename="client")
router.register("providers", ProviderViewSet, basename="provider")
router.register("vendor-approvals", VendorApprovalViewSet, basename="vendor-approval")
router.register("teams", TeamViewSet, basename="team")
router.register("engagements", EngagementViewSet, basename="engagement")
router.register("documents", DocumentViewSet, basename="document")
router.register("deliverables", DeliverableViewSet, basename="deliverable")
router.register("submissions", SubmissionViewSet, basename="submission")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("webhooks", WebhookViewSet, basename="webhook")
router.register("audit", AuditEventViewSet, basename="audit-event")

app_name = "api"
urlpatterns = [
    path("auth/token/", AuthTokenView.as_view(), name="token"),
    path("knowledge/", KnowledgeView.as_view(), name="knowledge"),
    *router.urls,
]
