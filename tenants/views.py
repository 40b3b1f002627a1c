from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.tokens import handover_token
from crm_platform.kernel.forms import form_add_errors

from .services import tenant_signup


class SignupForm(forms.Form):
    """Only collects input: tenant_signup validates every field, for the API and this page."""

    company_name = forms.CharField(
        label=_("Company name"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"required": True}),
    )
    subdomain = forms.CharField(
        label=_("Subdomain"),
        max_length=30,
        required=False,
        help_text=_("Your workspace's address."),
        widget=forms.TextInput(attrs={"required": True, "autocapitalize": "none"}),
    )
    email = forms.CharField(
        label=_("Work e-mail"), required=False, widget=forms.EmailInput(attrs={"required": True})
    )
    password = forms.CharField(
        label=_("Password"),
        required=False,
        strip=False,
        help_text=_("At least 10 characters, not only digits."),
        widget=forms.PasswordInput(attrs={"required": True}),
    )


def signup(request):
    """The public landing page with the signup form."""
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = tenant_signup(**form.cleaned_data, language=get_language() or "")
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            token = handover_token(schema_name=result.tenant.schema_name, email=result.owner_email)
            handover = reverse("accounts:handover", urlconf=settings.ROOT_URLCONF)
            return redirect(f"{result.tenant.url}{handover}?t={token}")
    return render(
        request,
        "tenants/signup.html",
        {
            "form": form,
            "base_domain": settings.CRM_BASE_DOMAIN,
            "trial_days": settings.TENANT_TRIAL_DAYS,
        },
    )
