from django.contrib import admin
from django.urls import include, path

from kpo.accounts import views as account_views

urlpatterns = [
    path("", account_views.home, name="home"),
    path("accounts/", include("kpo.accounts.urls")),
    path("admin/", admin.site.urls),
]
