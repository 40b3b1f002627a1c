"""Routes of the product catalogue, price lists and sales settings."""

from django.urls import path

from ..api import products as api_views
from ..views import products as pages_views

pages = [
    path("products/", pages_views.product_list, name="products"),
    path("products/new/", pages_views.product_edit, name="product_create"),
    path("products/<int:pk>/", pages_views.product_edit, name="product_edit"),
    path("price-lists/new/", pages_views.price_list_edit, name="price_list_create"),
    path("price-lists/<int:pk>/", pages_views.price_list_detail, name="price_list"),
    path("price-lists/<int:pk>/edit/", pages_views.price_list_edit, name="price_list_edit"),
    path("sales-settings/", pages_views.sales_settings, name="sales_settings"),
]

api = [
    path("products/", api_views.ProductListApi.as_view(), name="api-products"),
    path("products/<int:pk>/", api_views.ProductDetailApi.as_view(), name="api-product"),
    path("price-lists/", api_views.PriceListListApi.as_view(), name="api-price-lists"),
    path("price-lists/<int:pk>/", api_views.PriceListDetailApi.as_view(), name="api-price-list"),
    path(
        "price-lists/<int:pk>/items/",
        api_views.PriceListItemsApi.as_view(),
        name="api-price-list-items",
    ),
    path("sales-settings/", api_views.SalesSettingsApi.as_view(), name="api-sales-settings"),
]
