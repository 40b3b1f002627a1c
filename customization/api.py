"""REST API of custom fields: definitions (with archive, restore, purge and type change),
field security, layouts and the definitions' audit log."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm, Role, has_perm
from crm_platform.kernel.serializers import StrictInput

from . import selectors, services
from .indexes import index_progress
from .layouts import layout_for
from .models import DefinitionChange, FieldAccess, FieldDefinition, FieldType, IndexState
from .registry import LOOKUP_TARGETS, customizable_models


class DefinitionsPermission(BasePermission):
    """Everyone who sees records reads the definitions (forms need them); admins write."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return has_perm(request.user, Perm.VIEW_RECORDS)
        return has_perm(request.user, Perm.MANAGE_CUSTOM_FIELDS)


class ChoiceSerializer(StrictInput):
    value = serializers.CharField(max_length=100)
    label = serializers.CharField(max_length=100, required=False)
    color = serializers.RegexField(r"^(#[0-9a-fA-F]{6})?$", required=False, allow_blank=True)
    active = serializers.BooleanField(required=False, default=True)


class DefinitionOptions(StrictInput):
    label = serializers.CharField(max_length=100)
    label_translations = serializers.DictField(
        child=serializers.CharField(max_length=100), required=False
    )
    required = serializers.BooleanField(required=False)
    unique = serializers.BooleanField(required=False)
    default = serializers.JSONField(required=False, allow_null=True)
    help_text = serializers.CharField(max_length=300, required=False, allow_blank=True)
    min_value = serializers.DecimalField(
        max_digits=30, decimal_places=10, required=False, allow_null=True
    )
    max_value = serializers.DecimalField(
        max_digits=30, decimal_places=10, required=False, allow_null=True
    )
    max_length = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    pattern = serializers.CharField(max_length=200, required=False, allow_blank=True)
    decimal_places = serializers.IntegerField(min_value=0, max_value=6, required=False)
    currency = serializers.CharField(max_length=3, required=False, allow_blank=True)
    lookup_entity = serializers.ChoiceField(
        choices=LOOKUP_TARGETS, required=False, allow_blank=True
    )
    choices = ChoiceSerializer(many=True, required=False)
    position = serializers.IntegerField(min_value=0, required=False)
    filterable = serializers.BooleanField(required=False)


class DefinitionInput(DefinitionOptions):
    entity = serializers.CharField(max_length=40)
    api_name = serializers.CharField(max_length=40)
    field_type = serializers.ChoiceField(choices=FieldType.choices)


class DefinitionOutput(serializers.ModelSerializer):
    index_progress = serializers.SerializerMethodField()

    class Meta:
        model = FieldDefinition
        fields = [
            "id",
            "entity",
            "api_name",
            "label",
            "label_translations",
            "field_type",
            "required",
            "unique",
            "default",
            "help_text",
            "min_value",
            "max_value",
            "max_length",
            "pattern",
            "decimal_places",
            "currency",
            "lookup_entity",
            "choices",
            "position",
            "filterable",
            "index_state",
            "index_error",
            "index_progress",
            "archived_at",
            "created_at",
            "updated_at",
        ]

    def get_index_progress(self, definition) -> dict | None:
        if definition.index_state != IndexState.BUILDING:
            return None
        return index_progress(definition)


class DefinitionFilters(serializers.Serializer):
    entity = serializers.ChoiceField(choices=[], required=False)
    archived = serializers.BooleanField(required=False, allow_null=True, default=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entity"].choices = sorted(customizable_models())


class DefinitionListApi(APIView):
    permission_classes = [DefinitionsPermission]

    @extend_schema(parameters=[DefinitionFilters], responses=DefinitionOutput(many=True))
    def get(self, request):
        filters = DefinitionFilters(data=request.query_params)
        filters.is_valid(raise_exception=True)
        definitions = selectors.definition_list(**filters.validated_data)
        return Response(DefinitionOutput(definitions, many=True).data)

    @extend_schema(request=DefinitionInput, responses={201: DefinitionOutput})
    def post(self, request):
        data = DefinitionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        definition = services.definition_create(
            actor=request.user, entity=values.pop("entity"), data=values
        )
        return Response(DefinitionOutput(definition).data, status=status.HTTP_201_CREATED)


class DefinitionDetailApi(APIView):
    permission_classes = [DefinitionsPermission]

    @extend_schema(responses=DefinitionOutput)
    def get(self, request, pk):
        return Response(DefinitionOutput(selectors.definition_get(pk=pk)).data)

    @extend_schema(request=DefinitionOptions, responses=DefinitionOutput)
    def patch(self, request, pk):
        definition = selectors.definition_get(pk=pk)
        # entity, api_name and field_type may be sent back unchanged; changing them is refused.
        data = DefinitionInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        definition = services.definition_update(
            actor=request.user, definition=definition, data=dict(data.validated_data)
        )
        return Response(DefinitionOutput(definition).data)

    @extend_schema(
        parameters=[OpenApiParameter("confirm", str, required=True, description="The API name")],
        responses={200: inline_serializer("PurgeResult", {"records": serializers.IntegerField()})},
    )
    def delete(self, request, pk):
        """Purge an archived field and its values (confirm with its API name)."""
        definition = selectors.definition_get(pk=pk)
        cleared = services.definition_purge(
            actor=request.user,
            definition=definition,
            confirm=request.query_params.get("confirm", ""),
        )
        return Response({"records": cleared})


class DefinitionArchiveApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_CUSTOM_FIELDS)]
    restore = False

    @extend_schema(request=None, responses=DefinitionOutput)
    def post(self, request, pk):
        definition = selectors.definition_get(pk=pk)
        action = services.definition_restore if self.restore else services.definition_archive
        return Response(DefinitionOutput(action(actor=request.user, definition=definition)).data)


class DefinitionRestoreApi(DefinitionArchiveApi):
    restore = True


class TypeChangeInput(StrictInput):
    field_type = serializers.ChoiceField(choices=FieldType.choices)
    options = serializers.DictField(required=False)


class DefinitionTypeChangeApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_CUSTOM_FIELDS)]

    @extend_schema(
        request=TypeChangeInput,
        responses=inline_serializer(
            "TypeChangeReport",
            {
                "changed": serializers.IntegerField(),
                "failed": serializers.IntegerField(),
                "failures": serializers.ListField(child=serializers.DictField()),
            },
        ),
    )
    def post(self, request, pk):
        """Change the type; 409 with the failing records (nothing changed) if any value
        does not convert."""
        definition = selectors.definition_get(pk=pk)
        data = TypeChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.definition_change_type(
            actor=request.user,
            definition=definition,
            field_type=data.validated_data["field_type"],
            options=data.validated_data.get("options"),
        )
        return Response(report, status=status.HTTP_409_CONFLICT if report["failed"] else 200)


class FieldSecurityInput(StrictInput):
    entity = serializers.CharField(max_length=40)
    field = serializers.CharField(max_length=60)
    role = serializers.ChoiceField(choices=Role.choices)
    access = serializers.ChoiceField(
        choices=[*FieldAccess.choices, ("full", "Full")], help_text="hidden, read_only or full"
    )


class FieldSecurityRow(serializers.Serializer):
    entity = serializers.CharField()
    field = serializers.CharField()
    role = serializers.CharField()
    access = serializers.CharField()


class FieldSecurityApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_CUSTOM_FIELDS)]

    @extend_schema(
        parameters=[OpenApiParameter("entity", str, required=False)],
        responses=FieldSecurityRow(many=True),
    )
    def get(self, request):
        rows = selectors.field_security_list(entity=request.query_params.get("entity"))
        return Response(FieldSecurityRow(rows, many=True).data)

    @extend_schema(request=FieldSecurityInput, responses=FieldSecurityRow(many=True))
    def put(self, request):
        """Set one role's access to one field (standard or custom) of an entity."""
        data = FieldSecurityInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        access = values.pop("access")
        services.field_security_set(
            actor=request.user, access=None if access == "full" else access, **values
        )
        rows = selectors.field_security_list(entity=values["entity"])
        return Response(FieldSecurityRow(rows, many=True).data)


class LayoutSection(serializers.Serializer):
    title = serializers.CharField(max_length=100, allow_blank=True, required=False)
    fields = serializers.ListField(child=serializers.CharField(max_length=60))


class LayoutSerializer(StrictInput):
    sections = LayoutSection(many=True)
    list_columns = serializers.ListField(child=serializers.CharField(max_length=60), required=False)


class LayoutApi(APIView):
    permission_classes = [DefinitionsPermission]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if kwargs.get("entity") not in customizable_models():
            raise NotFound

    @extend_schema(responses=LayoutSerializer)
    def get(self, request, entity):
        layout = layout_for(entity)
        return Response({"sections": layout.sections, "list_columns": layout.list_columns})

    @extend_schema(request=LayoutSerializer, responses=LayoutSerializer)
    def put(self, request, entity):
        data = LayoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        layout = services.layout_save(
            actor=request.user,
            entity=entity,
            sections=[dict(s) for s in data.validated_data["sections"]],
            list_columns=data.validated_data.get("list_columns", []),
        )
        return Response({"sections": layout.sections, "list_columns": layout.list_columns})


class DefinitionChangeOutput(serializers.ModelSerializer):
    actor_email = serializers.CharField(source="actor.email", default=None)

    class Meta:
        model = DefinitionChange
        fields = ["id", "entity", "api_name", "action", "changes", "actor_id", "actor_email", "at"]


class DefinitionChangeListApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_CUSTOM_FIELDS)]

    @extend_schema(
        parameters=[OpenApiParameter("entity", str, required=False)],
        responses=DefinitionChangeOutput(many=True),
    )
    def get(self, request):
        changes = selectors.definition_changes(entity=request.query_params.get("entity"))
        return Response(DefinitionChangeOutput(changes, many=True).data)
