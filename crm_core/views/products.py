"""Pages of the product catalogue, price lists (with their prices) and sales settings."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.permissions import page_permission
from accounts.roles import Perm, has_perm

from ..models import PriceList, Product, SalesSettings
from ..selectors.products import price_lists_visible
from ..services import products as services
from .sales_common import form_page


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = list(services.PRODUCT_FIELDS)


class PriceListForm(forms.ModelForm):
    class Meta:
        model = PriceList
        fields = list(services.PRICE_LIST_FIELDS)
        widgets = {
            "valid_from": forms.DateInput(attrs={"type": "date"}),
            "valid_until": forms.DateInput(attrs={"type": "date"}),
        }


class PriceForm(forms.Form):
    product = forms.ModelChoiceField(queryset=Product.objects.filter(is_active=True))
    unit_price = forms.DecimalField(max_digits=18, decimal_places=3, min_value=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].label = _("Product")
        self.fields["unit_price"].label = _("Unit price")


class SalesSettingsForm(forms.ModelForm):
    class Meta:
        model = SalesSettings
        fields = list(services.SETTINGS_FIELDS)


@login_required
@page_permission(Perm.VIEW_RECORDS)
def product_list(request):
    return render(
        request,
        "crm_core/sales/products.html",
        {
            "products": Product.objects.order_by("code")[:500],
            "price_lists": price_lists_visible(request.user)
            .select_related("customer")
            .order_by("-id")[:200],
            "can_manage": has_perm(request.user, Perm.MANAGE_PRODUCTS),
        },
    )


@login_required
@page_permission(Perm.MANAGE_PRODUCTS)
def product_edit(request, pk=None):
    product = get_object_or_404(Product, pk=pk) if pk else None
    return form_page(
        request,
        form=ProductForm(request.POST or None, instance=product),
        save=lambda data: services.product_save(actor=request.user, data=data, product=product),
        title=product.name if product else _("New product"),
        cancel=reverse("crm:products"),
        done=lambda _saved: reverse("crm:products"),
    )


@login_required
@page_permission(Perm.MANAGE_PRODUCTS)
def price_list_edit(request, pk=None):
    price_list = get_object_or_404(PriceList, pk=pk) if pk else None
    return form_page(
        request,
        form=PriceListForm(request.POST or None, instance=price_list),
        save=lambda data: services.price_list_save(
            actor=request.user, data=data, price_list=price_list
        ),
        title=str(price_list) if price_list else _("New price list"),
        cancel=reverse("crm:products"),
        done=lambda saved: reverse("crm:price_list", args=[saved.pk]),
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
def price_list_detail(request, pk):
    price_list = get_object_or_404(price_lists_visible(request.user), pk=pk)
    can_manage = has_perm(request.user, Perm.MANAGE_PRODUCTS)
    if request.method == "POST" and can_manage and request.POST.get("remove"):
        product = get_object_or_404(Product, pk=request.POST["remove"])
        services.price_list_item_remove(actor=request.user, price_list=price_list, product=product)
        return redirect("crm:price_list", price_list.pk)
    form = PriceForm(request.POST or None)
    if request.method == "POST" and can_manage and form.is_valid():
        services.price_list_item_set(actor=request.user, price_list=price_list, **form.cleaned_data)
        form = PriceForm()
    return render(
        request,
        "crm_core/sales/price_list.html",
        {
            "price_list": price_list,
            "items": price_list.items.select_related("product"),
            "form": form,
            "can_manage": can_manage,
        },
    )


@login_required
@page_permission(Perm.MANAGE_SALES_SETTINGS)
def sales_settings(request):
    return form_page(
        request,
        form=SalesSettingsForm(request.POST or None, instance=services.sales_settings_get()),
        save=lambda data: services.sales_settings_update(actor=request.user, data=data),
        title=_("Sales settings"),
        cancel=reverse("crm:quotes"),
        done=lambda _saved: reverse("crm:sales_settings"),
    )
