"""Routes of quotes."""

from django.urls import path

from ..api import quotes as api_views
from ..views import quotes as pages_views

pages = [
    path("quotes/", pages_views.quote_list, name="quotes"),
    path("quotes/new/", pages_views.quote_create, name="quote_create"),
    path("quotes/preview/", pages_views.quote_preview, name="quote_preview"),
    path("quotes/<int:pk>/", pages_views.quote_detail, name="quote"),
    path("quotes/<int:pk>/edit/", pages_views.quote_edit, name="quote_edit"),
    path("quotes/<int:pk>/pdf/", pages_views.quote_pdf_page, name="quote_pdf"),
    path("quotes/<int:pk>/<slug:action>/", pages_views.quote_action, name="quote_action"),
]

api = [
    path("quotes/", api_views.QuoteListApi.as_view(), name="api-quotes"),
    path("quotes/<int:pk>/", api_views.QuoteDetailApi.as_view(), name="api-quote"),
    path("quotes/<int:pk>/pdf/", api_views.QuotePdfApi.as_view(), name="api-quote-pdf"),
    path("quotes/<int:pk>/submit/", api_views.QuoteSubmitApi.as_view(), name="api-quote-submit"),
    path("quotes/<int:pk>/send/", api_views.QuoteSendApi.as_view(), name="api-quote-send"),
    path("quotes/<int:pk>/accept/", api_views.QuoteAcceptApi.as_view(), name="api-quote-accept"),
    path("quotes/<int:pk>/reject/", api_views.QuoteRejectApi.as_view(), name="api-quote-reject"),
    path("quotes/<int:pk>/revise/", api_views.QuoteReviseApi.as_view(), name="api-quote-revise"),
]
