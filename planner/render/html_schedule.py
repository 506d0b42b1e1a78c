"""Commune schedules as printable HTML (print CSS for A4, no external resources).

Same content as the PDF (:mod:`planner.render.pdf`); every data text is escaped
by Jinja2's autoescape.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from reportlab.lib.units import mm

from planner.render import pdf

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"

_env: Environment | None = None


def environment() -> Environment:
    global _env
    if _env is None:
        _env = Environment(
            loader=FileSystemLoader(str(TEMPLATE_DIR)),
            autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _env


def _lines(text: str, bold: bool, size: float, width_mm: float) -> list[str]:
    """Break headings where the PDF does (a comma, before "và"), not inside a word."""
    pdf.register_fonts()
    font = f"{pdf.FAMILY}-Bold" if bold else pdf.FAMILY
    return pdf.balanced_lines(text, font, size, width_mm * mm)


def render_html(doc, communes) -> str:
    template = environment().get_template("schedule.html.j2")
    return template.render(
        parent_lines=_lines(doc.issuer.parent_body, False, 10.5, 75),
        body_lines=_lines(doc.issuer.issuing_body, True, 10.5, 75),
        t=doc.texts,
        issuer=doc.issuer,
        number_line=doc.number_line,
        place_date=doc.place_date,
        period=doc.period,
        approximated=doc.approximated,
        communes=list(communes),
    )


def write_html(doc, communes, path: Path) -> Path:
    Path(path).write_text(render_html(doc, communes), encoding="utf-8")
    return path
