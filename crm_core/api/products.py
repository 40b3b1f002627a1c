"""REST API of the product catalogue, price lists (with their prices) and the company's
sales settings."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm, has_perm
from crm_platform.kernel.serializers import StrictInput

from ..models import Customer, PriceList, PriceListItem, Product, SalesSettings
from ..selectors.products import price_lists_visible
from ..services import products as services
from .sales_common import paged_response, service_call


class CatalogPermission(BasePermission):
    """Everyone with access to records reads the catalogue; managers change it."""

    def has_permission(self, request, view):
        perm = Perm.VIEW_RECORDS if request.method in SAFE_METHODS else Perm.MANAGE_PRODUCTS
        return has_perm(request.user, perm)


class ProductOutput(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "code", "name", "unit", "category", "description", "is_active",
                  "created_at", "updated_at"]  # fmt: skip


class ProductInput(StrictInput):
    code = serializers.CharField(max_length=50)
    name = serializers.CharField(max_length=200)
    unit = serializers.CharField(max_length=20, required=False)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class ProductListApi(APIView):
    permission_classes = [CatalogPermission]

    @extend_schema(responses=ProductOutput(many=True))
    def get(self, request):
        queryset = Product.objects.order_by("-id")
        if request.query_params.get("active") == "1":
            queryset = queryset.filter(is_active=True)
        return paged_response(self, request, queryset, ProductOutput)

    @extend_schema(request=ProductInput, responses={201: ProductOutput})
    def post(self, request):
        data = ProductInput(data=request.data)
        data.is_valid(raise_exception=True)
        product = service_call(services.product_save, actor=request.user, data=data.validated_data)
        return Response(ProductOutput(product).data, status=status.HTTP_201_CREATED)


class ProductDetailApi(APIView):
    permission_classes = [CatalogPermission]

    @extend_schema(responses=ProductOutput)
    def get(self, request, pk):
        return Response(ProductOutput(get_object_or_404(Product, pk=pk)).data)

    @extend_schema(request=ProductInput, responses=ProductOutput)
    def patch(self, request, pk):
        product = get_object_or_404(Product, pk=pk)
        data = ProductInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        product = service_call(
            services.product_save, actor=request.user, data=data.validated_data, product=product
        )
        return Response(ProductOutput(product).data)


class PriceItemOutput(serializers.ModelSerializer):
    product_code = serializers.CharField(source="product.code")
    product_name = serializers.CharField(source="product.name")

    class Meta:
        model = PriceListItem
        fields = ["id", "product_id", "product_code", "product_name", "unit_price"]


class PriceListOutput(serializers.ModelSerializer):
    items = PriceItemOutput(many=True, read_only=True)

    class Meta:
        model = PriceList
        fields = ["id", "name", "currency", "valid_from", "valid_until", "customer_id",
                  "is_active", "items", "created_at", "updated_at"]  # fmt: skip


class PriceListInput(StrictInput):
    name = serializers.CharField(max_length=100)
    currency = serializers.CharField(max_length=3)
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_until = serializers.DateField(required=False, allow_null=True)
    customer_id = serializers.PrimaryKeyRelatedField(
        source="customer", required=False, allow_null=True, queryset=Customer.objects.all()
    )
    is_active = serializers.BooleanField(required=False)


class PriceListListApi(APIView):
    permission_classes = [CatalogPermission]

    @extend_schema(responses=PriceListOutput(many=True))
    def get(self, request):
        queryset = (
            price_lists_visible(request.user).prefetch_related("items__product").order_by("-id")
        )
        return paged_response(self, request, queryset, PriceListOutput)

    @extend_schema(request=PriceListInput, responses={201: PriceListOutput})
    def post(self, request):
        data = PriceListInput(data=request.data)
        data.is_valid(raise_exception=True)
        price_list = service_call(
            services.price_list_save, actor=request.user, data=data.validated_data
        )
        return Response(PriceListOutput(price_list).data, status=status.HTTP_201_CREATED)


class PriceListDetailApi(APIView):
    permission_classes = [CatalogPermission]

    @extend_schema(responses=PriceListOutput)
    def get(self, request, pk):
        return Response(
            PriceListOutput(get_object_or_404(price_lists_visible(request.user), pk=pk)).data
        )

    @extend_schema(request=PriceListInput, responses=PriceListOutput)
    def patch(self, request, pk):
        price_list = get_object_or_404(price_lists_visible(request.user), pk=pk)
        data = PriceListInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        price_list = service_call(
            services.price_list_save,
            actor=request.user,
            data=data.validated_data,
            price_list=price_list,
        )
        return Response(PriceListOutput(price_list).data)


class PriceInput(StrictInput):
    product_id = serializers.PrimaryKeyRelatedField(
        source="product", queryset=Product.objects.all()
    )
    unit_price = serializers.DecimalField(max_digits=18, decimal_places=3, min_value=0)


class PriceListItemsApi(APIView):
    """Set a product's price in the price list (creates or changes it)."""

    permission_classes = [api_permission(Perm.MANAGE_PRODUCTS)]

    @extend_schema(request=PriceInput, responses=PriceListOutput)
    def post(self, request, pk):
        price_list = get_object_or_404(price_lists_visible(request.user), pk=pk)
        data = PriceInput(data=request.data)
        data.is_valid(raise_exception=True)
        service_call(
            services.price_list_item_set,
            actor=request.user,
            price_list=price_list,
            **data.validated_data,
        )
        return Response(PriceListOutput(price_list).data)

    @extend_schema(
        parameters=[OpenApiParameter("product_id", int, required=True)],
        responses=PriceListOutput,
    )
    def delete(self, request, pk):
        """Remove a product's price from the price list (`?product_id=`)."""
        price_list = get_object_or_404(price_lists_visible(request.user), pk=pk)
        data = PriceRemoveInput(data=request.query_params)
        data.is_valid(raise_exception=True)
        service_call(
            services.price_list_item_remove,
            actor=request.user,
            price_list=price_list,
            product=data.validated_data["product_id"],
        )
        return Response(PriceListOutput(price_list).data)


class PriceRemoveInput(serializers.Serializer):
    product_id = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())


class SalesSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = SalesSettings
        fields = list(services.SETTINGS_FIELDS)


class SalesSettingsApi(APIView):
    permission_classes = [api_permission(Perm.MANAGE_SALES_SETTINGS)]

    @extend_schema(responses=SalesSettingsSerializer)
    def get(self, request):
        return Response(SalesSettingsSerializer(services.sales_settings_get()).data)

    @extend_schema(request=SalesSettingsSerializer, responses=SalesSettingsSerializer)
    def patch(self, request):
        data = SalesSettingsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        settings = service_call(
            services.sales_settings_update, actor=request.user, data=data.validated_data
        )
        return Response(SalesSettingsSerializer(settings).data)
