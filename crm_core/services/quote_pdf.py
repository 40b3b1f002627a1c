"""The quote as a PDF in the customer's language (en, zh-hans, ja).

reportlab's built-in CID fonts need no font files or system packages and render CJK:
STSong-Light (Adobe-GB1, Chinese, also Latin and kana) and HeiseiKakuGo-W5 (Adobe-Japan1).
The text stays extractable (Unicode CMaps), which the tests check.
"""

from __future__ import annotations

import io
from decimal import Decimal
from xml.sax.saxutils import escape

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..models import Quote
from ..money import minor_units

FONTS = {"zh-hans": "STSong-Light", "ja": "HeiseiKakuGo-W5", "en": "STSong-Light"}
for _font in set(FONTS.values()):
    pdfmetrics.registerFont(UnicodeCIDFont(_font))


def money_text(amount: Decimal, currency: str) -> str:
    return f"{amount:,.{minor_units(currency)}f} {currency}"


def quote_pdf_filename(quote: Quote) -> str:
    return f"{quote.number}-v{quote.version}.pdf"


def quote_pdf(quote: Quote) -> bytes:
    """Render `quote` (with its lines) in quote.language."""
    font = FONTS.get(quote.language, FONTS["en"])
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12)
    title = ParagraphStyle("title", fontName=font, fontSize=18, leading=24)
    with translation.override(quote.language):
        company = getattr(getattr(connection, "tenant", None), "name", "")
        story = [
            Paragraph(_("Quote %(number)s") % {"number": quote.number}, title),
            Paragraph(escape(company), body),
            Spacer(1, 4 * mm),
            Paragraph(f"{_('Customer')}: {escape(quote.customer.name)}", body),
            Paragraph(f"{_('Version')}: {quote.version}", body),
            Paragraph(f"{_('Valid until')}: {quote.valid_until or '—'}", body),
            Spacer(1, 6 * mm),
        ]
        rows = [[_("Description"), _("Quantity"), _("Unit price"), _("Discount (%)"),
                 _("Tax rate (%)"), _("Amount")]]  # fmt: skip
        for line in quote.lines.all():
            rows.append(
                [
                    Paragraph(escape(line.description), body),
                    f"{line.quantity.normalize():f}",
                    money_text(line.unit_price, quote.currency),
                    f"{line.discount_percent.normalize():f}",
                    f"{line.tax_rate.normalize():f}",
                    money_text(line.net_amount, quote.currency),
                ]
            )
        table = Table(rows, colWidths=[62 * mm, 18 * mm, 30 * mm, 20 * mm, 20 * mm, 30 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), font, 9),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
                    ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                    ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.grey),
                ]
            )
        )
        totals = [
            [_("Subtotal"), money_text(quote.subtotal, quote.currency)],
            [_("Total discount"), money_text(0 - quote.total_discount, quote.currency)],
            [_("Tax"), money_text(quote.tax_amount, quote.currency)],
            [_("Total"), money_text(quote.total, quote.currency)],
        ]
        totals_table = Table(totals, colWidths=[40 * mm, 40 * mm], hAlign="RIGHT")
        totals_table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), font, 10),
                    ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                    ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
                ]
            )
        )
        story += [table, Spacer(1, 4 * mm), totals_table]
        if quote.terms:
            story += [
                Spacer(1, 6 * mm),
                Paragraph(_("Terms"), body),
                Paragraph(escape(quote.terms).replace("\n", "<br/>"), body),
            ]
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer, pagesize=A4, title=f"{quote.number} v{quote.version}", author=company
    ).build(story)
    return buffer.getvalue()


def quote_email_send(*, quote_id: int) -> bool:
    """E-mail a sent quote's PDF to its recipient, once per sending (outbox handler of
    quote.sent; a retried event finds emailed_at set and does nothing)."""
    with transaction.atomic():
        quote = (
            Quote.objects.select_for_update(of=("self",))
            .select_related("customer", "owner")
            .filter(pk=quote_id, status=Quote.Status.SENT, emailed_at__isnull=True)
            .first()
        )
        if quote is None or not quote.sent_to:
            return False
        company = getattr(getattr(connection, "tenant", None), "name", "")
        context = {"quote": quote, "company": company, "sender": quote.owner}
        with translation.override(quote.language):
            subject = render_to_string("crm_core/quotes/email/quote_subject.txt", context)
            body = render_to_string("crm_core/quotes/email/quote.txt", context)
        message = EmailMessage(
            " ".join(subject.split()),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [quote.sent_to],
            reply_to=[quote.owner.email] if quote.owner_id and quote.owner.email else None,
        )
        message.attach(quote_pdf_filename(quote), quote_pdf(quote), "application/pdf")
        message.send()
        quote.emailed_at = timezone.now()
        quote.save(update_fields=["emailed_at"])
    return True
