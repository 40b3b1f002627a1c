from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_platform.kernel.api import FailOpenScopedRateThrottle

from .services import tenant_signup


class SignupInput(serializers.Serializer):
    # Blanks pass through so the service reports every bad field at once.
    company_name = serializers.CharField(max_length=200, allow_blank=True)
    subdomain = serializers.CharField(max_length=30, allow_blank=True)
    email = serializers.CharField(max_length=254, allow_blank=True)
    password = serializers.CharField(
        max_length=128, write_only=True, allow_blank=True, style={"input_type": "password"}
    )
    language = serializers.ChoiceField(choices=["en", "zh-hans", "ja"], required=False, default="")


class SignupOutput(serializers.Serializer):
    tenant_url = serializers.CharField()
    subdomain = serializers.CharField()
    status = serializers.CharField(
        help_text="`trial`, or `provisioning` for a few seconds "
        "when no pre-built workspace was free."
    )
    trial_ends_at = serializers.DateTimeField()
    api_token = serializers.CharField(help_text="The owner's API token, shown only once.")


class SignupApi(APIView):
    """Sign a company up for a free trial (public host)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [FailOpenScopedRateThrottle]
    throttle_scope = "signup"

    @extend_schema(request=SignupInput, responses={201: SignupOutput})
    def post(self, request):
        data = SignupInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = tenant_signup(**data.validated_data)
        tenant = result.tenant
        return Response(
            SignupOutput(
                {
                    "tenant_url": tenant.url,
                    "subdomain": tenant.subdomain,
                    "status": tenant.status,
                    "trial_ends_at": tenant.trial_ends_at,
                    "api_token": result.api_token,
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )
