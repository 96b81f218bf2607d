from django.conf import settings
from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from engagements.models import Client, Engagement
from kpo import rest
from kpo.domain import BusinessRuleViolation

from . import services, two_factor


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


class TokenCredentialsSerializer(serializers.Serializer):
    # The model's limit, checked here: django-axes stores the username of every failure.
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="The current code of the authenticator app (or a recovery code): required "
        "for accounts with two-factor sign-in, which every admin has.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


def _locked_out() -> exceptions.Throttled:
    return exceptions.Throttled(
        wait=settings.AXES_COOLOFF_TIME.total_seconds(),
        detail="Too many failed sign-in attempts for this account from your address.",
    )


class AuthTokenView(APIView):
    """POST: the API token of a username and password (and the current code, when the account
    uses two-factor sign-in); created on first use, the same one after. DELETE: the caller
    revokes their own token, whether the request carries the token or the browser session.

    The password goes through django-axes like the sign-in page: five failures lock the
    (username, address) pair, and a wrong code counts as a failure too."""

    # Forms as well as JSON, as Django REST framework's own token view accepts.
    parser_classes = [rest.JSONParser, rest.FormParser]

    def get_permissions(self):
        if self.request.method == "POST":
            return [permissions.AllowAny()]
        return super().get_permissions()

    @extend_schema(
        request=TokenCredentialsSerializer,
        responses={
            200: TokenSerializer,
            400: OpenApiResponse(description="Wrong credentials, or a missing or wrong code"),
            429: OpenApiResponse(description="Sign-in paused for this username and address"),
        },
    )
    def post(self, request):
        serializer = TokenCredentialsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # django-axes flags this request object (not the underlying one) when it is locked.
        user = authenticate(request=request, username=data["username"], password=data["password"])
        if getattr(request, "axes_locked_out", False):
            raise _locked_out()
        if user is None:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Unable to log in with provided credentials."]}
            )
        if two_factor.has_device(user):
            self._check_code(request, user, data.get("otp", ""))
        elif two_factor.is_required(user):
            raise exceptions.ValidationError(
                {
                    "otp": [
                        "Your role needs two-factor sign-in. Set it up on the account security "
                        "page in the browser first; then send its current code as otp."
                    ]
                }
            )
        return Response({"token": services.token_obtain(actor=user).key})

    @staticmethod
    def _check_code(request, user, code):
        if not code:
            raise exceptions.ValidationError(
                {
                    "otp": [
                        "This account uses two-factor sign-in: send the code the authenticator "
                        "app shows now as otp."
                    ]
                }
            )
        try:
            services.two_factor_verify(actor=user, code=code)
        except BusinessRuleViolation as error:
            if two_factor.count_failure(request, user):
                raise _locked_out() from error
            raise exceptions.ValidationError({"otp": [error.message]}) from error

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        services.token_revoke(actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
