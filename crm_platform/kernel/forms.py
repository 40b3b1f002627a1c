from django import forms
from django.core.exceptions import ValidationError


def form_add_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on a page's form, next to the fields it names."""
    if hasattr(exc, "error_dict"):
        for field, messages in exc.message_dict.items():
            for message in messages:
                form.add_error(field if field in form.fields else None, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)
