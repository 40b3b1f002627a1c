"""Small server-rendered charts: inline SVG built from numbers (no front-end library)."""

from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT, PAD = 600, 160, 28


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.2f}"


def line_chart(labels: list, values: list[float], *, bars: bool = False) -> SafeString:
    """A line (or bar) chart with the axis' maximum, first and last day and the last value."""
    top = max(values) if values and max(values) > 0 else 1
    n = max(1, len(values))
    step = (WIDTH - 2 * PAD) / max(1, n - 1 if not bars else n)

    def x(i):
        return PAD + i * step

    def y(v):
        return HEIGHT - PAD - (v / top) * (HEIGHT - 2 * PAD)

    if bars:
        width = max(1.0, step * 0.7)
        marks = format_html_join(
            "",
            '<rect x="{}" y="{}" width="{}" height="{}"><title>{}: {}</title></rect>',
            (
                (
                    f"{x(i):.1f}",
                    f"{y(v):.1f}",
                    f"{width:.1f}",
                    f"{HEIGHT - PAD - y(v):.1f}",
                    date_format(labels[i], "SHORT_DATE_FORMAT"),
                    _fmt(v),
                )
                for i, v in enumerate(values)
            ),
        )
    else:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        marks = format_html('<polyline fill="none" stroke-width="2" points="{}"/>', points)
    first = date_format(labels[0], "SHORT_DATE_FORMAT") if labels else ""
    last = date_format(labels[-1], "SHORT_DATE_FORMAT") if labels else ""
    return format_html(
        '<svg class="chart{}" viewBox="0 0 {} {}" role="img" aria-label="{}">'
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="axis"/>'
        '<text x="2" y="{}" class="tick">{}</text><text x="2" y="{}" class="tick">0</text>'
        '<text x="{}" y="{}" class="tick">{}</text>'
        '<text x="{}" y="{}" class="tick" text-anchor="end">{}</text>'
        "{}</svg>",
        " bars" if bars else "",
        WIDTH,
        HEIGHT,
        _fmt(values[-1] if values else 0),
        PAD,
        HEIGHT - PAD,
        WIDTH - PAD,
        HEIGHT - PAD,
        PAD - 14,
        _fmt(top),
        HEIGHT - PAD,
        PAD,
        HEIGHT - 8,
        first,
        WIDTH - PAD,
        HEIGHT - 8,
        last,
        marks,
    )
