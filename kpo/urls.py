from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from kpo.accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("kpo.accounts.urls")),
    path("engagements/", include("engagements.urls")),
    path("deliverables/", include("deliverables.urls")),
    path("providers/", include("vendors.urls")),
    path("notifications/", include("kpo.notifications.urls")),
    path("audit/", include("kpo.audit.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("kpo.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]
