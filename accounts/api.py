"""REST API for people in a company: /api/v1/me/, users, teams, invitations, tokens."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .models import ApiToken, Invitation, Team, User
from .permissions import api_permission
from .roles import ROLE_PERMISSIONS, Perm, Role


class TeamRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name"]


class UserOutput(serializers.ModelSerializer):
    team = TeamRefSerializer(allow_null=True)

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "role",
            "team",
            "is_owner",
            "is_active",
            "language",
            "date_joined",
            "last_login",
        ]


class TenantOutput(serializers.Serializer):
    name = serializers.CharField()
    subdomain = serializers.CharField()
    url = serializers.CharField()
    status = serializers.CharField()
    trial_ends_at = serializers.DateTimeField(allow_null=True)


class MeApi(APIView):
    @extend_schema(
        responses=inline_serializer(
            "Me",
            {
                "user": UserOutput(),
                "tenant": TenantOutput(),
                "permissions": serializers.ListField(child=serializers.CharField()),
            },
        )
    )
    def get(self, request):
        return Response(
            {
                "user": UserOutput(request.user).data,
                "tenant": TenantOutput(request.tenant).data,
                "permissions": sorted(ROLE_PERMISSIONS.get(request.user.role, ())),
            }
        )


class UserListApi(APIView):
    permission_classes = [api_permission(Perm.VIEW_USERS)]

    @extend_schema(responses=UserOutput(many=True))
    def get(self, request):
        return Response(UserOutput(selectors.user_list(), many=True).data)


class UserUpdateInput(serializers.Serializer):
    full_name = serializers.CharField(required=False, max_length=150)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    team_id = serializers.IntegerField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)


class UserDetailApi(APIView):
    def get_permissions(self):
        perm = Perm.VIEW_USERS if self.request.method == "GET" else Perm.MANAGE_USERS
        return [api_permission(perm)()]

    @extend_schema(responses=UserOutput)
    def get(self, request, pk):
        return Response(UserOutput(get_object_or_404(selectors.user_list(), pk=pk)).data)

    @extend_schema(request=UserUpdateInput, responses=UserOutput)
    def patch(self, request, pk):
        user = get_object_or_404(User, pk=pk)
        data = UserUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "team_id" in values:
            team_id = values.pop("team_id")
            values["team"] = get_object_or_404(Team, pk=team_id) if team_id else None
        user = services.user_update(user=user, actor=request.user, **values)
        return Response(UserOutput(user).data)


class TeamOutput(serializers.ModelSerializer):
    manager = UserOutput(allow_null=True)
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Team
        fields = ["id", "name", "manager", "member_count", "created_at"]


class TeamInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    manager_id = serializers.IntegerField(required=False, allow_null=True)


def _team_values(request) -> dict:
    data = TeamInput(data=request.data)
    data.is_valid(raise_exception=True)
    manager_id = data.validated_data.get("manager_id")
    manager = User.objects.filter(pk=manager_id).first() if manager_id else None
    if manager_id and manager is None:
        raise serializers.ValidationError({"manager_id": ["Unknown user."]})
    return {"name": data.validated_data["name"], "manager": manager}


class TeamListApi(APIView):
    def get_permissions(self):
        perm = Perm.VIEW_USERS if self.request.method == "GET" else Perm.MANAGE_TEAMS
        return [api_permission(perm)()]

    @extend_schema(responses=TeamOutput(many=True))
    def get(self, request):
        return Response(TeamOutput(selectors.team_list(), many=True).data)

    @extend_schema(request=TeamInput, responses={201: TeamOutput})
    def post(self, request):
        team = services.team_save(**_team_values(request))
        return Response(
            TeamOutput(selectors.team_list().get(pk=team.pk)).data, status=status.HTTP_201_CREATED
        )


class TeamDetailApi(APIView):
    def get_permissions(self):
        perm = Perm.VIEW_USERS if self.request.method == "GET" else Perm.MANAGE_TEAMS
        return [api_permission(perm)()]

    @extend_schema(responses=TeamOutput)
    def get(self, request, pk):
        return Response(TeamOutput(get_object_or_404(selectors.team_list(), pk=pk)).data)

    @extend_schema(request=TeamInput, responses=TeamOutput)
    def put(self, request, pk):
        team = services.team_save(team=get_object_or_404(Team, pk=pk), **_team_values(request))
        return Response(TeamOutput(selectors.team_list().get(pk=team.pk)).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.team_delete(team=get_object_or_404(Team, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationOutput(serializers.ModelSerializer):
    team = TeamRefSerializer(allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "team", "created_at", "expires_at"]


class InvitationInput(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    role = serializers.ChoiceField(choices=Role.choices, default=Role.SALES_REP)
    team_id = serializers.IntegerField(required=False, allow_null=True)


class InvitationListApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_USERS)]

    @extend_schema(responses=InvitationOutput(many=True))
    def get(self, request):
        return Response(InvitationOutput(selectors.invitation_list_open(), many=True).data)

    @extend_schema(request=InvitationInput, responses={201: InvitationOutput})
    def post(self, request):
        data = InvitationInput(data=request.data)
        data.is_valid(raise_exception=True)
        team_id = data.validated_data.get("team_id")
        team = get_object_or_404(Team, pk=team_id) if team_id else None
        invitation = services.invitation_create(
            email=data.validated_data["email"],
            role=data.validated_data["role"],
            team=team,
            invited_by=request.user,
        )
        return Response(InvitationOutput(invitation).data, status=status.HTTP_201_CREATED)


class InvitationDetailApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_USERS)]

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        services.invitation_revoke(invitation=get_object_or_404(Invitation, pk=pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenOutput(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at"]


class TokenInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class TokenListApi(APIView):
    """The caller's own API tokens. The token itself is returned once, at creation."""

    permission_classes = [api_permission(Perm.USE_API_TOKENS)]

    @extend_schema(responses=TokenOutput(many=True))
    def get(self, request):
        return Response(TokenOutput(selectors.api_token_list(user=request.user), many=True).data)

    @extend_schema(
        request=TokenInput,
        responses={
            201: inline_serializer(
                "TokenCreated", {"token": serializers.CharField(), "api_token": TokenOutput()}
            )
        },
    )
    def post(self, request):
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        token, raw = services.api_token_create(user=request.user, **data.validated_data)
        return Response(
            {"token": raw, "api_token": TokenOutput(token).data}, status=status.HTTP_201_CREATED
        )


class TokenDetailApi(APIView):
    permission_classes = [api_permission(Perm.USE_API_TOKENS)]

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        token = get_object_or_404(selectors.api_token_list(user=request.user), pk=pk)
        services.api_token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
