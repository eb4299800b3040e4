"""PDF from print-styled HTML with WeasyPrint (imported lazily: it is slow to import).

The PDF is tagged (PDF/UA-1: structure tree, language, title in the window bar) so a screen
reader can follow it; its Author is the page's <meta name="author"> (config `report.author`).

WeasyPrint resolves every URL in the document through `url_fetcher`. Ours serves only
inline `data:` URIs and files in an allow-list of folders (the package's own assets and the
report's own folder, for its charts) and refuses everything else — no `file://` path or
network URL coming from a template or a feed item can leak into a PDF or make the renderer
reach the network.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from reportgen.errors import RenderError

# WeasyPrint 70's PDF/UA-1 variant: tagged (pdf_tags), PDF 1.7, with UA metadata.
PDF_VARIANT = "pdf/ua-1"


def safe_url_fetcher(allowed: list[Path]) -> Any:
    """A WeasyPrint URLFetcher (WeasyPrint ≥ 70 wants a URLFetcher subclass, not a function)
    that serves files under `allowed` and raises ValueError for anything else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    roots = [p.resolve() for p in allowed]

    class SafeURLFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            parsed = urlparse(url)
            if parsed.scheme == "data":  # inline (matplotlib embeds rasters in SVG): no I/O
                return super().fetch(url, headers)
            if parsed.scheme != "file":
                raise ValueError(f"blocked non-local resource in PDF: {url[:80]}")
            path = Path(unquote(parsed.path)).resolve()
            inside = any(path == root or root in path.parents for root in roots)
            if not inside or not path.is_file():
                raise ValueError(f"blocked resource outside the report's assets: {url[:80]}")
            mime, _ = mimetypes.guess_type(path.name)
            return URLFetcherResponse(url, body=path.read_bytes(),
                                      headers={"Content-Type": mime or "application/octet-stream"})

    return SafeURLFetcher(allowed_protocols=("file", "data"))


def html_to_pdf(html: str, base_dir: Path, allowed: list[Path], stylesheets: list[Path]) -> bytes:
    """Render `html` (whose relative URLs resolve against `base_dir`) to PDF bytes."""
    try:
        import weasyprint
    except OSError as exc:  # a missing system library (Pango) surfaces as OSError
        raise RenderError(
            f"WeasyPrint cannot load its system libraries ({exc}); "
            "install the Debian package libpango-1.0-0 (and libpangoft2-1.0-0)"
        ) from None
    from reportgen.render.glyphs import drawable_html

    fetcher = safe_url_fetcher(allowed)
    try:
        document = weasyprint.HTML(
            string=drawable_html(html), base_url=base_dir.resolve().as_uri() + "/", url_fetcher=fetcher
        )
        sheets = [weasyprint.CSS(filename=str(s), url_fetcher=fetcher) for s in stylesheets]
        pdf: bytes = document.write_pdf(stylesheets=sheets, uncompressed_pdf=False,
                                        pdf_variant=PDF_VARIANT)
        return pdf
    except Exception as exc:
        raise RenderError(f"PDF rendering failed: {exc}") from exc
