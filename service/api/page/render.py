"""The dyad page's HTML and the headers that keep it read-only, unframed and uncached.

Jinja2 autoescapes every value; the only markup inserted as is, the charts' SVG, comes
from our renderer (service.api.charts.render), whose text ElementTree escapes.
"""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from service.api.charts.spec import number
from service.api.page.words import alert_sentence, concordance_sentences
from service.app.charts import DyadOverview
from service.app.insights import ConcordanceView
from service.domain.concordance import DISCORDANCE_NOTE

_ENV = Environment(
    loader=PackageLoader("service.api.page", "templates"),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)
STYLESHEET = files("service.api.page").joinpath("static/page.css").read_text(encoding="utf-8")
CAVEAT = DISCORDANCE_NOTE.replace("; Rapport's rule is documented in `rule`.", ".")


def security_headers(frame_ancestors: str) -> dict[str, str]:
    """A strict policy: no script at all, styles and images from this origin only (inline
    SVG needs neither), framing only by the configured EHR origins."""
    headers = {
        "Content-Security-Policy": (
            "default-src 'none'; img-src 'self' data:; style-src 'self'; base-uri 'none'; "
            f"form-action 'none'; frame-ancestors {frame_ancestors}"
        ),
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if frame_ancestors.strip() == "'none'":
        headers["X-Frame-Options"] = "DENY"  # for browsers without CSP level 2
    return headers


def dyad_page(
    *, dyad_id: str, expires_at: datetime, stylesheet: str, overview: DyadOverview,
    progress_svg: str | None, alliance_svg: str | None, concordance: ConcordanceView | None,
) -> str:  # fmt: skip
    latest = [
        {"name": s.definition.short_name, "session": s.session, "total": number(s.total),
         "band": s.band or "—"}
        for s in overview.latest
    ]  # fmt: skip
    alerts = [
        {"kind": a.kind.value, "severity": a.severity.value, "status": a.status.value,
         "label": a.kind.value.replace("-", " ").capitalize(), "sentence": alert_sentence(a)}
        for a in overview.alerts
    ]  # fmt: skip
    return _ENV.get_template("dyad.html").render(
        short_id=f"…{dyad_id[-8:]}",
        expires=expires_at.strftime("%Y-%m-%d %H:%M"),
        stylesheet=stylesheet,
        alerts=alerts,
        latest=latest,
        progress_svg=Markup(progress_svg) if progress_svg else None,  # noqa: S704 - our SVG
        progress_missing="No outcome measure has been scored yet.",
        alliance_svg=Markup(alliance_svg) if alliance_svg else None,  # noqa: S704 - our SVG
        concordance=concordance_sentences(concordance) if concordance else None,
        alliance_missing="No alliance measure rated by client and therapist yet.",
        caveat=CAVEAT,
    )


def refused_page(reason: str, stylesheet: str) -> str:
    return _ENV.get_template("refused.html").render(reason=reason, stylesheet=stylesheet)
