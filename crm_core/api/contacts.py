"""REST API for contacts: lean cursor-paginated list and CRUD."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.roles import Perm
from customization.api_support import SecuredRecordOutput

from ..models import Contact, Customer
from ..records import visible
from ..selectors import contacts as selectors
from ..services import contacts as services
from .common import OwnedRecordInput, bulk_save_api, lean_list_response, record_permission


class ContactRow(serializers.Serializer):
    """One list row (documentation of the lean list; rows are built from .values())."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    customer_id = serializers.IntegerField(allow_null=True)
    customer_name = serializers.CharField(allow_null=True)
    job_title = serializers.CharField()
    decision_role = serializers.CharField()
    emails = serializers.ListField(child=serializers.CharField())
    phones = serializers.ListField(child=serializers.CharField())
    birthday = serializers.DateField(allow_null=True)
    preferred_channel = serializers.CharField()
    owner_id = serializers.IntegerField(allow_null=True)
    owner_name = serializers.CharField(allow_null=True)
    team_id = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ContactFilters(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=100)
    customer = serializers.IntegerField(required=False)
    owner = serializers.RegexField(r"^(me|\d+)$", required=False, help_text='"me" or a user id')
    decision_role = serializers.ChoiceField(choices=Contact.DecisionRole.choices, required=False)
    ordering = serializers.ChoiceField(choices=sorted(selectors.ORDERINGS), required=False)


class ContactInput(OwnedRecordInput):
    """Parses types; the contact services validate the rules."""

    name = serializers.CharField(max_length=200, allow_blank=True)
    customer_id = serializers.PrimaryKeyRelatedField(
        source="customer", required=False, allow_null=True, queryset=Customer.objects.all()
    )
    job_title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    decision_role = serializers.ChoiceField(
        choices=Contact.DecisionRole.choices, required=False, allow_blank=True
    )
    emails = serializers.ListField(
        child=serializers.CharField(max_length=254, allow_blank=True), required=False
    )
    phones = serializers.ListField(
        child=serializers.CharField(max_length=50, allow_blank=True), required=False
    )
    birthday = serializers.DateField(required=False, allow_null=True)
    preferred_channel = serializers.ChoiceField(
        choices=Contact.Channel.choices, required=False, allow_blank=True
    )
    notes = serializers.CharField(required=False, allow_blank=True)
    # Never in the public pool: an owner, when given, cannot be empty.
    owner_id = serializers.PrimaryKeyRelatedField(
        source="owner", required=False, queryset=User.objects.all()
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is None:  # the schema generator's instance
            return
        # A customer the user cannot see reads as one that does not exist.
        self.fields["customer_id"].queryset = visible(
            Customer.objects.all(), user, include_pool=True
        )


class ContactOutput(SecuredRecordOutput):
    owner_name = serializers.CharField(source="owner.get_full_name", default=None)
    customer_name = serializers.CharField(source="customer.name", default=None)

    class Meta:
        model = Contact
        fields = [
            "id",
            "name",
            "customer_id",
            "customer_name",
            "job_title",
            "decision_role",
            "emails",
            "phones",
            "birthday",
            "preferred_channel",
            "notes",
            "owner_id",
            "owner_name",
            "team_id",
            "region_id",
            "created_at",
            "updated_at",
        ]


def _lean(rows):
    for row in rows:
        row["owner_name"] = row.pop("owner__full_name")
        row["customer_name"] = row.pop("customer__name")
    return rows


class ContactListApi(APIView):
    permission_classes = [record_permission(delete=Perm.CHANGE_RECORDS)]

    @extend_schema(parameters=[ContactFilters], responses=ContactRow(many=True))
    def get(self, request):
        return lean_list_response(
            self, request, filters_class=ContactFilters, rows=selectors.contact_rows, shape=_lean
        )

    @extend_schema(request=ContactInput, responses={201: ContactOutput})
    def post(self, request):
        data = ContactInput(data=request.data, user=request.user)
        data.is_valid(raise_exception=True)
        contact = services.contact_create(actor=request.user, data=data.validated_data)
        return Response(
            ContactOutput(contact, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ContactDetailApi(APIView):
    permission_classes = [record_permission()]

    @extend_schema(responses=ContactOutput)
    def get(self, request, pk):
        return Response(
            ContactOutput(
                selectors.contact_get(user=request.user, pk=pk), context={"request": request}
            ).data
        )

    @extend_schema(request=ContactInput, responses=ContactOutput)
    def patch(self, request, pk):
        contact = selectors.contact_get(user=request.user, pk=pk)
        data = ContactInput(data=request.data, partial=True, user=request.user)
        data.is_valid(raise_exception=True)
        contact = services.contact_update(
            contact=contact, actor=request.user, data=data.validated_data
        )
        return Response(ContactOutput(contact, context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        contact = selectors.contact_get(user=request.user, pk=pk)
        services.contact_delete(contact=contact, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


ContactBulkApi = bulk_save_api(
    noun="Contact",
    input_serializer=ContactInput,
    output_serializer=ContactOutput,
    save=services.contact_bulk_save,
)
