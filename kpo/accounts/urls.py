from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("login/code/", views.TwoFactorVerifyView.as_view(), name="two_factor_verify"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("security/", views.security, name="security"),
    path("security/two-factor/", views.two_factor_enrol, name="two_factor_enrol"),
    path("security/two-factor/off/", views.two_factor_disable, name="two_factor_disable"),
    path("security/token/", views.token_create, name="token_create"),
    path("security/token/revoke/", views.token_revoke, name="token_revoke"),
]
