"""Printable outputs of a plan: schedules per commune, calendars, workbook, interchange CSV.

Entry point: :func:`render_printables`. It writes into ``out_dir``::

    schedules/<commune-slug>.pdf   one official-style schedule per commune (A4 portrait)
    schedules/all_communes.pdf     every commune, one after the other
    schedules/<commune-slug>.html  the same content as printable HTML
    schedules/all_communes.html
    schedule.xlsx                  a sheet per commune, the full stop list, a summary
    calendars/<commune-slug>.ics   RFC 5545 calendars (one VEVENT per visit, RRULE when regular)
    calendars/all.ics
    stops_interchange.csv          stops in the open UK mobile-library-stops schema

The content shared by the PDF and HTML schedules is built once here
(:class:`CommuneSchedule`); the renderers only lay it out.
"""

from __future__ import annotations

from pathlib import Path

from planner.render import calendar as cal_mod
from planner.render import html_schedule, interchange, pdf, workbook
from planner.render.document import build_document, safe_path

# --------------------------------------------------------------------------- entry point


def render_printables(
    plan, area, out_dir: Path, *, lang: str = "vi", issuer=None, units: str | None = None
) -> dict[str, list[Path]]:
    """Write every printable output of ``plan`` into ``out_dir``; return the paths by kind.

    ``lang`` is ``"vi"`` (default) or ``"en"``. ``issuer`` (a mapping, every key optional)
    overrides the document's issuer: ``parent_body``, ``issuing_body``, ``organisation``,
    ``place``, ``date`` (date of issue; default today), ``number`` (blank by default, to be
    filled by the clerk), ``symbol`` (``LPV-TTVHTTTT``), ``signer_title`` (``GIÁM ĐỐC``),
    ``signer_name`` (blank: a dotted line), ``signer_prefix`` (e.g. ``KT. GIÁM ĐỐC``); the
    defaults and aliases are in :data:`planner.render.document.DOCUMENT_DEFAULTS`. ``units``
    (``"pre2025"``, default, or ``"2025"``) groups the schedules by pre-2025 communes or by
    the 2025 communes they merged into.
    Returns ``{"pdf": [...], "html": [...], "xlsx": [...], "ics": [...], "csv": [...]}``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    doc = build_document(plan, area, lang=lang, issuer=issuer, units=units)
    written: dict[str, list[Path]] = {"pdf": [], "html": [], "xlsx": [], "ics": [], "csv": []}

    sched_dir = safe_path(out_dir, "schedules")
    sched_dir.mkdir(exist_ok=True)
    for commune in doc.communes:
        path = safe_path(sched_dir, f"{commune.slug}.pdf")
        pdf.write_pdf(doc, [commune], path)
        written["pdf"].append(path)
        path = safe_path(sched_dir, f"{commune.slug}.html")
        html_schedule.write_html(doc, [commune], path)
        written["html"].append(path)
    path = safe_path(sched_dir, "all_communes.pdf")
    pdf.write_pdf(doc, doc.communes, path)
    written["pdf"].append(path)
    path = safe_path(sched_dir, "all_communes.html")
    html_schedule.write_html(doc, doc.communes, path)
    written["html"].append(path)

    path = safe_path(out_dir, "schedule.xlsx")
    workbook.write_workbook(plan, doc, path)
    written["xlsx"].append(path)

    cal_dir = safe_path(out_dir, "calendars")
    cal_dir.mkdir(exist_ok=True)
    written["ics"].extend(cal_mod.write_calendars(plan, area, doc, cal_dir))

    path = safe_path(out_dir, "stops_interchange.csv")
    interchange.write_interchange(plan, area, doc, path)
    written["csv"].append(path)
    return written
