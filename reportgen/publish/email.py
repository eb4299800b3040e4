"""The brief as an email: content composed once per date, then one MIME message per recipient.

Structure (RFC 2046), outermost first:

    multipart/mixed                      only when the PDF is attached
    ├── multipart/alternative
    │   ├── text/plain                   a readable text rendering (from the Markdown)
    │   └── multipart/related
    │       ├── text/html                templates/email.html.j2, CSS inlined (css_inline)
    │       └── image/png …              charts, referenced as cid:…
    └── application/pdf                  brief.pdf

The HTML is made for mail clients: tables up to 600 px, inline styles, no `data:` URIs and
no remote images, charts as 2x PNGs flattened onto white so they stay readable in dark mode.
Pure apart from reading the report folder: no network, no SMTP (that is `mailer`).
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass, field
from datetime import date, datetime
from email.header import Header
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from reportgen.brief.model import Brief, Figure
from reportgen.config import EmailSettings
from reportgen.render import render_markdown
from reportgen.render.environment import environment
from reportgen.render.filters import figure_change, figure_value

# Gmail clips messages whose HTML is over ~102 KB; stay clearly under it, as encoded.
HTML_LIMIT_BYTES = 95 * 1024
EMAIL_WIDTH = 600  # px, the classic safe width for mail clients
IMAGE_WIDTH = 560  # px shown; the PNGs are 2x that for sharp display


@dataclass(frozen=True)
class InlineImage:
    """A chart embedded in the message and referenced from the HTML as `cid:<cid>`."""

    cid: str
    filename: str
    data: bytes
    alt: str
    width: int
    height: int


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


# -- subject -------------------------------------------------------------------------------


def headline_figure(brief: Brief) -> Figure | None:
    """The one figure the subject line carries: total market cap, when available."""
    for section in brief.sections:
        for fig in section.figures:
            if fig.label.lower() == "total market cap" and fig.available:
                return fig
    return None


def subject_for(brief: Brief, prefix: str) -> str:
    """"Crypto brief 2025-06-11: BTC $108,680 −1.39% · ETH $2,776 −1.15%" ("[SAMPLE] "
    first for sample data): the short form of "the day in brief", else total market cap."""
    subject = f"{prefix} {brief.day.isoformat()}"
    if brief.story_title:
        subject += f": {brief.story_title}"
    else:
        fig = headline_figure(brief)
        if fig is not None:
            change = figure_change(fig)
            subject += f": {fig.label.lower()} {figure_value(fig)}{(' ' + change) if change else ''}"
    return ("[SAMPLE] " if brief.sample else "") + subject


# -- plain text ----------------------------------------------------------------------------

_TABLE_SEP = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(<?[^)>]*>?\)")
_LINK = re.compile(r"\[([^\]]+)\]\(<?([^)>\s]+)>?\)")
_FOOTNOTE = re.compile(r"\[\^(\d+)\]")
_EMPHASIS = re.compile(r"(?<![\w\\])(\*\*|_)(\S(?:.*?\S)?)\1(?!\w)")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()<>#+!|~-])")


def _cells(line: str) -> list[str]:
    # Split on unescaped pipes only: escaped ones are part of a cell's text.
    parts = re.split(r"(?<!\\)\|", line.strip())
    return [p.strip() for p in parts[1:-1]]


def _text_table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows if i < len(r)) for i in range(max(map(len, rows)))]
    out = []
    for n, row in enumerate(rows):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def _inline(text: str) -> str:
    text = _IMAGE.sub(lambda m: f"[Chart: {m.group(1)}]", text)
    text = _LINK.sub(lambda m: f"{m.group(1)} <{m.group(2)}>", text)
    text = _FOOTNOTE.sub(r"[\1]", text)
    for _ in range(2):  # nested **_x_**
        text = _EMPHASIS.sub(r"\2", text)
    return _ESCAPE.sub(r"\1", text)


def markdown_to_text(markdown: str) -> str:
    """A plain-text rendering of the brief's Markdown for the text/plain part: tables as
    aligned columns, headings underlined, links as "title <url>", escapes removed."""
    lines = markdown.splitlines()
    out: list[str] = []
    table: list[list[str]] = []
    for line in [*lines, ""]:
        if line.startswith("|"):
            if not _TABLE_SEP.match(line):
                table.append([_inline(c) for c in _cells(line)])
            continue
        if table:
            out.extend(_text_table(table))
            table = []
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            title = _inline(line.lstrip("#").strip())
            out.extend([title, ("=" if level == 1 else "-" if level == 2 else "·") * len(title)])
        elif line.strip() == "---":
            out.append("-" * 72)
        else:
            out.append(_inline(line.replace("[^", "[", 1) if line.startswith("[^") else line))
    text = "\n".join(out)
    text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
    return text


# -- images --------------------------------------------------------------------------------


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def email_png(data: bytes) -> bytes:
    """The chart as mail wants it: opaque (flattened onto white: a transparent chart on a
    dark-mode background loses its black axis labels), exactly 2x the shown width, and
    palette-coded (charts have few colours), which makes it several times smaller."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        rgba = img.convert("RGBA")
    flat = Image.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    if flat.width > 2 * IMAGE_WIDTH:
        height = round(flat.height * 2 * IMAGE_WIDTH / flat.width)
        flat = flat.resize((2 * IMAGE_WIDTH, height), Image.Resampling.LANCZOS)
    small = flat.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def chart_images(brief: Brief, report_folder: Path) -> tuple[dict[str, InlineImage], list[InlineImage]]:
    """The report's chart PNGs: those the liquidation maps and ETF tables reference (keyed by the
    `chart` path), then any other `charts/*.png` in the report folder."""
    by_chart: dict[str, InlineImage] = {}
    used: set[Path] = set()
    day = brief.day.isoformat()

    def load(png: Path, alt: str) -> InlineImage:
        data = email_png(png.read_bytes())
        width, height = _png_size(data)
        shown_w = min(IMAGE_WIDTH, width // 2)
        return InlineImage(
            cid=f"{png.stem}.{day}@reportgen", filename=png.name, data=data, alt=alt,
            width=shown_w, height=round(height * shown_w / width),
        )

    for section in brief.sections:
        charts = [(m.chart, m.alt) for m in section.maps] + [
            (t.chart, f"{t.asset} spot ETF net flows and running total") for t in section.tables]
        for chart, alt in charts:
            if not chart:
                continue
            png = (report_folder / chart).with_suffix(".png")
            if png.is_file():
                by_chart[chart] = load(png, alt or f"Chart: {png.stem.replace('_', ' ')}")
                used.add(png.resolve())
    extra = [
        load(png, f"Chart: {png.stem.replace('_', ' ')}")
        for png in sorted((report_folder / "charts").glob("*.png"))
        if png.resolve() not in used
    ]
    return by_chart, extra


# -- HTML ----------------------------------------------------------------------------------


def render_email_html(brief: Brief, *, chart_by_path: dict[str, InlineImage],
                      extra_charts: list[InlineImage], web_url: str | None,
                      unsubscribe_url: str | None) -> str:
    """templates/email.html.j2 with its CSS inlined (media queries kept for dark mode)."""
    import css_inline

    html = environment().get_template("email.html.j2").render(
        brief=brief, charts=chart_by_path, extra_charts=extra_charts, web_url=web_url,
        unsubscribe_url=unsubscribe_url, width=EMAIL_WIDTH, image_width=IMAGE_WIDTH,
    )
    inliner = css_inline.CSSInliner(keep_style_tags=True, keep_at_rules=True,
                                    load_remote_stylesheets=False, minify_css=True)
    return inliner.inline(html)


def compose(brief: Brief, report_folder: Path, settings: EmailSettings, *,
            web_url: str | None = None) -> EmailContent:
    """The content of the brief's email for `brief.day` from its view-model and the files
    in `report_folder` (charts, brief.pdf)."""
    by_path, extra = chart_images(brief, report_folder)
    pdf_path = report_folder / "brief.pdf"
    pdf = pdf_path.read_bytes() if settings.attach_pdf and pdf_path.is_file() else None
    return EmailContent(
        day=brief.day,
        subject=subject_for(brief, settings.subject_prefix),
        text=markdown_to_text(render_markdown(brief)),
        html=render_email_html(brief, chart_by_path=by_path, extra_charts=extra, web_url=web_url,
                               unsubscribe_url=settings.list_unsubscribe_url),
        images=[*by_path.values(), *extra],
        pdf=pdf,
        web_url=web_url,
    )


# -- MIME ----------------------------------------------------------------------------------


def _domain(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def list_unsubscribe(settings: EmailSettings) -> str | None:
    """The List-Unsubscribe header value (RFC 2369), or None when nothing is configured."""
    targets = []
    if settings.list_unsubscribe_mailto:
        mailto = settings.list_unsubscribe_mailto.removeprefix("mailto:")
        targets.append(f"<mailto:{mailto}?subject=unsubscribe>")
    if settings.list_unsubscribe_url:
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
                  visible: bool, now: datetime, message_id: str | None = None) -> EmailMessage:
    """One recipient's message. `visible` puts the recipient in To:; otherwise (Bcc) To:
    shows only "undisclosed-recipients"."""
    msg = EmailMessage(policy=SMTP)
    _set_subject(msg, content.subject)
    msg["From"] = settings.from_addr
    msg["To"] = recipient if visible else "undisclosed-recipients:;"
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id or make_msgid(idstring=f"brief-{content.day.isoformat()}",
                                                 domain=_domain(settings.from_addr))
    unsubscribe = list_unsubscribe(settings)
    if unsubscribe:
        msg["List-Unsubscribe"] = unsubscribe
        if settings.list_unsubscribe_url:
            # RFC 8058 one-click: only meaningful with an https target.
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["X-Report-Date"] = content.day.isoformat()

    # text/plain first, then the richer alternative (RFC 2046: last is preferred).
    msg.set_content(content.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(content.html, subtype="html", charset="utf-8", cte="quoted-printable")
    html_part = msg.get_payload()[1]
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
            return len(part.get_payload().encode("ascii"))
    return 0
