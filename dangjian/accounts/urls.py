from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("otp/", views.otp_verify, name="otp_verify"),
    path("otp/setup/", views.otp_setup, name="otp_setup"),
    path("tokens/", views.tokens, name="tokens"),
    path("grants/", views.grants, name="grants"),
    path("grants/<int:pk>/revoke/", views.revoke, name="revoke"),
    path("security/", views.security, name="security"),
]
