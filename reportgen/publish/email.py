"""The brief as an email: content composed once per date, then one MIME message per recipient.

Structure (RFC 2046), outermost first:

    multipart/mixed                      only when the PDF is attached
    ├── multipart/alternative
    │   ├── text/plain                   templates/email.txt.j2, plain text
    │   └── multipart/related
    │       ├── text/html                templates/email.html.j2, CSS inlined (css_inline)
    │       └── image/png …              charts, referenced as cid:…
    └── application/pdf                  brief.pdf

The HTML is made for mail clients: tables up to 600 px, inline styles, no `data:` URIs and
no remote images, charts as 2x PNGs flattened onto their ground. The charts are the phone
look (`-phone.png`: its text stays >= 10 px on a 390 px screen, and reads at 480 px too),
shown at most IMAGE_WIDTH wide; each comes with its dark look (`-phone-dark.png`), which
clients that apply `prefers-color-scheme` show instead (others keep the light one, a
bordered panel).

List mode (`compose(..., site_day_url=...)`, thousands of subscribers) is lighter: no
attachments at all, so each message stays well under 100 KB. Charts are `<img>` links to the
published site's copies (YYYY/MM/DD/charts/x.png, with width and height), the PDF is a link,
and the unsubscribe link is the placeholder UNSUBSCRIBE_PLACEHOLDER, replaced per recipient
by `build_message(..., unsubscribe_url=...)` (the template is rendered once, not 10,000 times):

    multipart/alternative
    ├── text/plain
    └── text/html                        <img src="https://…/charts/x.png" width= height=>
Both parts are rendered from the view-model (the Brief); the subject, the charts and the PDF
come from the day's manifest (what render wrote) and the files it lists. Nothing is parsed
back out of the rendered Markdown or HTML. Pure apart from reading the report folder: no
network, no SMTP (that is `mailer`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from html import escape
from pathlib import Path

from reportgen.brief.model import Brief
from reportgen.config import EmailSettings
from reportgen.manifest import ReportManifest
from reportgen.publish.reports import read_bytes
from reportgen.render.environment import environment
from reportgen.render.filters import chart_variant

# Invisible characters after the preheader (the summary, <= 200 characters): a list view's
# snippet (Gmail ~100-140 characters, Apple Mail two lines) ends in them, not in body text.
PREHEADER_FILL = 90
# Gmail clips messages whose HTML is over ~102 KB; stay clearly under it, as encoded.
HTML_LIMIT_BYTES = 95 * 1024
EMAIL_WIDTH = 600  # px, the classic safe width for mail clients
# px shown at most: the phone look's 400 px figure at 1.2x (a two-panel map ~800 px tall on
# a desktop); the PNGs are 2x that for sharp display.
IMAGE_WIDTH = 480
DARK_GROUND = (0x1A, 0x21, 0x2A)  # the dark charts' own ground (liquidation.chart.DARK_GROUND)


@dataclass(frozen=True)
class InlineImage:
    """A chart embedded in the message and referenced from the HTML as `cid:<cid>`."""

    cid: str
    filename: str
    data: bytes
    alt: str
    width: int
    height: int
    dark: InlineImage | None = None  # the same chart for a dark-mode reader

    @property
    def src(self) -> str:
        return f"cid:{self.cid}"


@dataclass(frozen=True)
class LinkedImage:
    """A chart shown from the published site (list mode): nothing attached."""

    src: str
    alt: str
    width: int
    height: int
    dark: LinkedImage | None = None  # the same chart for a dark-mode reader


Chart = InlineImage | LinkedImage

# Stands for each recipient's own unsubscribe link in list mode's rendered parts. Made of
# characters neither HTML escaping nor quoted-printable changes, so a plain replace finds it.
UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/REPORTGEN-UNSUBSCRIBE-LINK"


@dataclass
class EmailContent:
    """Everything a message for one date carries, independent of the recipient."""

    day: date
    subject: str
    text: str
    html: str
    images: list[InlineImage] = field(default_factory=list)
    pdf: bytes | None = None
    web_url: str | None = None
    pdf_url: str | None = None  # list mode: the PDF on the site, linked instead of attached


# -- subject -------------------------------------------------------------------------------


def subject_for(manifest: ReportManifest, prefix: str) -> str:
    """"Crypto brief 2025-06-11: US spot ETH ETFs took in US$240.3 M, their largest daily
    inflow since 2025-02-04" ("[SAMPLE] " first for sample data): the headline of "the day
    in brief" (the manifest's `lead`, ≤ 90 characters), else the manifest's headline
    figure."""
    subject = f"{prefix} {manifest.day.isoformat()}"
    headline = manifest.headline
    if manifest.lead:
        subject += f": {manifest.lead}"
    elif headline is not None:
        change = f" {headline.change}" if headline.change else ""
        subject += f": {headline.label.lower()} {headline.value}{change}"
    return ("[SAMPLE] " if manifest.sample else "") + subject


# -- plain text ----------------------------------------------------------------------------


def render_email_text(brief: Brief, *, web_url: str | None, history_url: str | None,
                      pdf_url: str | None = None, unsubscribe_url: str | None = None) -> str:
    """templates/email.txt.j2: the brief as plain text, for the text/plain part."""
    text = environment().get_template("email.txt.j2").render(
        brief=brief, web_url=web_url, history_url=history_url, pdf_url=pdf_url,
        unsubscribe_url=unsubscribe_url)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


# -- images --------------------------------------------------------------------------------


def email_png(data: bytes, ground: tuple[int, int, int] = (255, 255, 255)
              ) -> tuple[bytes, tuple[int, int]]:
    """The chart as mail wants it, and its (width, height) in pixels: opaque (flattened onto
    `ground`: a transparent chart on a dark-mode background loses its black axis labels),
    exactly 2x the shown width, and palette-coded (charts have few colours), which makes it
    several times smaller."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        rgba = img.convert("RGBA")
    flat = Image.new("RGB", rgba.size, ground)
    flat.paste(rgba, mask=rgba.getchannel("A"))
    if flat.width > 2 * IMAGE_WIDTH:
        height = round(flat.height * 2 * IMAGE_WIDTH / flat.width)
        flat = flat.resize((2 * IMAGE_WIDTH, height), Image.Resampling.LANCZOS)
    small = flat.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue(), small.size


def chart_images(brief: Brief, manifest: ReportManifest, report_folder: Path, *,
                 link_base: str | None = None) -> tuple[dict[str, Chart], list[Chart]]:
    """The report's chart PNGs (those the manifest lists) in their phone look, each with its
    dark look when render drew one: the ones the liquidation maps and ETF tables reference
    (keyed by their `chart` path), then the others. With `link_base` (the day's folder on
    the site), linked there instead of embedded. A chart without a phone look (a report
    rendered before there was one) is shown as it is."""
    by_chart: dict[str, Chart] = {}
    used: set[str] = set()
    day = brief.day.isoformat()

    def one(name: str, alt: str, dark: Chart | None) -> Chart:
        png = report_folder / name
        if link_base is not None:
            return _linked(read_bytes(png), f"{link_base}{name}", alt,
                           dark if isinstance(dark, LinkedImage) else None)
        ground = DARK_GROUND if name.endswith("-dark.png") else (255, 255, 255)
        data, (width, height) = email_png(read_bytes(png), ground)
        shown_w = min(IMAGE_WIDTH, width // 2)
        return InlineImage(
            cid=f"{png.stem}.{day}@reportgen", filename=png.name, data=data, alt=alt,
            width=shown_w, height=round(height * shown_w / width),
            dark=dark if isinstance(dark, InlineImage) else None,
        )

    def load(name: str, alt: str) -> Chart:
        phone = chart_variant(name, "-phone")
        if not manifest.has(phone):
            return one(name, alt, None)
        dark = chart_variant(name, "-phone-dark")
        return one(phone, alt, one(dark, alt, None) if manifest.has(dark) else None)

    def default_alt(name: str) -> str:
        return f"Chart: {Path(name).stem.replace('_', ' ')}"

    for section in brief.sections:
        charts = [(m.chart, m.alt) for m in section.maps] + [
            (t.chart, f"{t.asset} spot ETF net flows and running total") for t in section.tables]
        for chart, alt in charts:
            if not chart:
                continue
            png = Path(chart).with_suffix(".png").as_posix()
            if manifest.has(png):
                by_chart[chart] = load(png, alt or default_alt(png))
                used.add(png)
    looks = ("-dark.png", "-phone.png")  # -phone-dark.png ends in -dark.png
    extra = [load(name, default_alt(name)) for name in sorted(manifest.charts)
             if name.endswith(".png") and name not in used and not name.endswith(looks)]
    return by_chart, extra


def _linked(data: bytes, url: str, alt: str, dark: LinkedImage | None = None) -> LinkedImage:
    """A chart on the site, with the size it is shown at (the file's width halved, as the
    PNGs are drawn at 2x, at most IMAGE_WIDTH). Only the PNG header is read."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        width, height = img.size
    shown_w = min(IMAGE_WIDTH, max(1, width // 2))
    return LinkedImage(src=url, alt=alt, width=shown_w, height=round(height * shown_w / width),
                       dark=dark)


# -- HTML ----------------------------------------------------------------------------------


def render_email_html(brief: Brief, *, chart_by_path: dict[str, Chart],
                      extra_charts: list[Chart], web_url: str | None,
                      history_url: str | None, unsubscribe_url: str | None,
                      pdf_url: str | None = None) -> str:
    """templates/email.html.j2 with its CSS inlined (media queries kept for dark mode)."""
    import css_inline

    html = environment().get_template("email.html.j2").render(
        brief=brief, charts=chart_by_path, extra_charts=extra_charts, web_url=web_url,
        history_url=history_url, unsubscribe_url=unsubscribe_url, pdf_url=pdf_url,
        width=EMAIL_WIDTH, image_width=IMAGE_WIDTH, preheader_fill=PREHEADER_FILL,
    )
    inliner = css_inline.CSSInliner(keep_style_tags=True, keep_at_rules=True,
                                    load_remote_stylesheets=False, minify_css=True)
    return inliner.inline(html)


def compose(brief: Brief, manifest: ReportManifest, report_folder: Path,
            settings: EmailSettings, *, web_url: str | None = None,
            history_url: str | None = None, site_day_url: str | None = None) -> EmailContent:
    """The content of the brief's email for `brief.day`: both parts from the view-model; the
    subject, charts and PDF from the manifest render wrote in `report_folder` and the files
    it lists. `web_url` is the brief's page on the site, `history_url` the report history.

    `site_day_url` (the day's folder on the site, ending in /) selects list mode: charts and
    PDF linked from there, nothing attached, and UNSUBSCRIBE_PLACEHOLDER in both parts."""
    if manifest.day != brief.day:
        raise ValueError(f"the manifest is for {manifest.day}, the brief for {brief.day}")
    by_path, extra = chart_images(brief, manifest, report_folder, link_base=site_day_url)
    if site_day_url is not None:
        pdf_url = f"{site_day_url}brief.pdf" if manifest.has("brief.pdf") else None
        unsubscribe = UNSUBSCRIBE_PLACEHOLDER
        return EmailContent(
            day=brief.day,
            subject=subject_for(manifest, settings.subject_prefix),
            text=render_email_text(brief, web_url=web_url, history_url=history_url,
                                   pdf_url=pdf_url, unsubscribe_url=unsubscribe),
            html=render_email_html(brief, chart_by_path=by_path, extra_charts=extra,
                                   web_url=web_url, history_url=history_url,
                                   unsubscribe_url=unsubscribe, pdf_url=pdf_url),
            web_url=web_url, pdf_url=pdf_url,
        )
    attach = settings.attach_pdf and manifest.has("brief.pdf")
    return EmailContent(
        day=brief.day,
        subject=subject_for(manifest, settings.subject_prefix),
        text=render_email_text(brief, web_url=web_url, history_url=history_url),
        html=render_email_html(brief, chart_by_path=by_path, extra_charts=extra, web_url=web_url,
                               history_url=history_url,
                               unsubscribe_url=settings.list_unsubscribe_url),
        images=[image for chart in [*by_path.values(), *extra] if isinstance(chart, InlineImage)
                for image in (chart, chart.dark) if image is not None],
        pdf=read_bytes(report_folder / "brief.pdf") if attach else None,
        web_url=web_url,
    )


# -- MIME ----------------------------------------------------------------------------------


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def list_unsubscribe(settings: EmailSettings, url: str | None = None) -> str | None:
    """The List-Unsubscribe header value (RFC 2369), or None when nothing is configured.
    `url` (a recipient's signed link) stands in for email.list_unsubscribe_url and comes
    first: RFC 8058 one-click clients use the https target; others may use the mailto."""
    targets = []
    if url:
        targets.append(f"<{url}>")
    if settings.list_unsubscribe_mailto:
        mailto = settings.list_unsubscribe_mailto.removeprefix("mailto:")
        targets.append(f"<mailto:{mailto}?subject=unsubscribe>")
    if settings.list_unsubscribe_url and not url:
        targets.append(f"<{settings.list_unsubscribe_url}>")
    return ", ".join(targets) or None


def _set_subject(msg: EmailMessage, subject: str) -> None:
    """Subject: encoded by hand when not ASCII. The stdlib folder splits "▼ −1.70%" into two
    encoded words and the space between them is lost on decoding (RFC 2047 §6.2)."""
    if subject.isascii():
        msg["Subject"] = subject
    else:
        msg.set_raw("Subject", Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n"))


def build_message(content: EmailContent, settings: EmailSettings, recipient: str, *,
                  visible: bool, now: datetime, message_id: str | None = None,
                  unsubscribe_url: str | None = None) -> EmailMessage:
    """One recipient's message. `visible` puts the recipient in To:; otherwise (Bcc) To:
    shows only "undisclosed-recipients". `unsubscribe_url` (list mode: the recipient's own
    signed link) replaces UNSUBSCRIBE_PLACEHOLDER in both parts and is the one-click
    target of List-Unsubscribe."""
    msg = EmailMessage(policy=SMTP)
    _set_subject(msg, content.subject)
    msg["From"] = settings.from_addr
    msg["To"] = recipient if visible else "undisclosed-recipients:;"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id or make_msgid(idstring=f"brief-{content.day.isoformat()}",
                                                 domain=_domain(settings.from_addr))
    unsubscribe = list_unsubscribe(settings, unsubscribe_url)
    if unsubscribe:
        msg["List-Unsubscribe"] = unsubscribe
        if unsubscribe_url:
            # RFC 8058 one-click: a mail client POSTs to the link with no other input, so
            # only a link that identifies the recipient (list mode's signed one) can offer
            # it; the configured shared URL stays a link to a page that asks.
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["X-Report-Date"] = content.day.isoformat()

    # text/plain first, then the richer alternative (RFC 2046: last is preferred).
    text, html = content.text, content.html
    if unsubscribe_url is not None:
        text = text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url)
        html = html.replace(UNSUBSCRIBE_PLACEHOLDER, escape(unsubscribe_url))
        msg["List-Id"] = f"<{settings.list_id}.{_domain(settings.from_addr)}>"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    html_part = list(msg.iter_parts())[1]
    for image in content.images:
        # add_related turns the HTML part into multipart/related = [HTML, images].
        html_part.add_related(image.data, maintype="image", subtype="png",
                              cid=f"<{image.cid}>", filename=image.filename, disposition="inline")
    if content.pdf is not None:
        msg.add_attachment(content.pdf, maintype="application", subtype="pdf",
                           filename=f"crypto-brief-{content.day.isoformat()}.pdf")
    return msg


def html_part_size(msg: EmailMessage) -> int:
    """Bytes of the text/html part as encoded in the message (what clients count)."""
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload()  # a leaf part: its encoded body as str
            assert isinstance(payload, str)
            return len(payload.encode("ascii"))
    return 0
