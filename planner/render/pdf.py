"""Commune schedules as PDF, laid out as a Vietnamese administrative document.

Layout after Decree 30/2020/NĐ-CP (Appendix I): A4 portrait, margins 20 mm top and
bottom, 30 mm left, 15 mm right; issuing body top left (parent body regular, own
name bold, a short rule under it), national title and motto top right (motto with
a rule of its own length), number line under the body and italic place-date under
the motto, centred bold title, body text, recipients bottom left and signature
bottom right; page numbers centred at the top from the second page.

Fonts: DejaVu Serif (Times New Roman is customary but not freely available); it
covers Vietnamese and is embedded (subset) in every file. It is found in
``planner/render/fonts`` if shipped there, else in matplotlib's data folder.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    HRFlowable,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FAMILY = "DejaVuSerif"
FONT_FILES = {
    FAMILY: "DejaVuSerif.ttf",
    f"{FAMILY}-Bold": "DejaVuSerif-Bold.ttf",
    f"{FAMILY}-Italic": "DejaVuSerif-Italic.ttf",
    f"{FAMILY}-BoldItalic": "DejaVuSerif-BoldItalic.ttf",
}

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 30 * mm, 15 * mm, 20 * mm, 20 * mm
CONTENT_WIDTH = A4[0] - MARGIN_LEFT - MARGIN_RIGHT

_registered = False
GOOD_BREAK_BEFORE = {"và", "and", "of", "của"}


def font_path(filename: str) -> Path:
    """A bundled TTF if present, else matplotlib's copy of DejaVu."""
    local = FONT_DIR / filename
    if local.exists():
        return local
    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / filename
    except ImportError as exc:  # pragma: no cover - matplotlib is a dependency
        raise RuntimeError(f"font {filename} not found: install matplotlib or put it in {FONT_DIR}") from exc
    if not path.exists():  # pragma: no cover
        raise RuntimeError(f"font {filename} not found in {path.parent} nor {FONT_DIR}")
    return path


def register_fonts() -> None:
    global _registered
    if _registered:
        return
    for name, filename in FONT_FILES.items():
        pdfmetrics.registerFont(TTFont(name, str(font_path(filename))))
    pdfmetrics.registerFontFamily(
        FAMILY,
        normal=FAMILY,
        bold=f"{FAMILY}-Bold",
        italic=f"{FAMILY}-Italic",
        boldItalic=f"{FAMILY}-BoldItalic",
    )
    _registered = True


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FAMILY, fontSize=11.5, leading=15, alignment=TA_LEFT)

    def s(name, **kw):
        return ParagraphStyle(name, parent=base, **kw)

    return {
        "parent": s("parent", fontSize=10.5, leading=14, alignment=TA_CENTER),
        "body_name": s("body_name", fontName=f"{FAMILY}-Bold", fontSize=10.5, leading=14, alignment=TA_CENTER),
        "nation": s("nation", fontName=f"{FAMILY}-Bold", fontSize=10, leading=14, alignment=TA_CENTER),
        "motto": s("motto", fontName=f"{FAMILY}-Bold", fontSize=11, leading=15, alignment=TA_CENTER),
        "number": s("number", fontSize=11, leading=14, alignment=TA_CENTER),
        "place_date": s("place_date", fontName=f"{FAMILY}-Italic", fontSize=11, leading=14, alignment=TA_CENTER),
        "title": s("title", fontName=f"{FAMILY}-Bold", fontSize=13.5, leading=18, alignment=TA_CENTER),
        "subtitle": s("subtitle", fontName=f"{FAMILY}-Bold", fontSize=12.5, leading=16, alignment=TA_CENTER),
        "period": s("period", fontName=f"{FAMILY}-Italic", fontSize=11.5, leading=15, alignment=TA_CENTER),
        "body": s("body", alignment=TA_JUSTIFY, firstLineIndent=10 * mm, spaceAfter=4),
        "section": s("section", fontName=f"{FAMILY}-Bold", fontSize=11.5, spaceBefore=6, spaceAfter=4),
        "note": s("note", alignment=TA_JUSTIFY, leftIndent=10 * mm, firstLineIndent=-4 * mm, spaceAfter=2),
        "footnote": s("footnote", fontName=f"{FAMILY}-Italic", fontSize=9.5, leading=12, alignment=TA_JUSTIFY),
        "th": s("th", fontName=f"{FAMILY}-Bold", fontSize=9, leading=11, alignment=TA_CENTER),
        "td": s("td", fontSize=9, leading=11),
        "tdc": s("tdc", fontSize=9, leading=11, alignment=TA_CENTER),
        "recipients": s("recipients", fontName=f"{FAMILY}-BoldItalic", fontSize=11, leading=14),
        "recipient": s("recipient", fontSize=10, leading=13),
        "signer": s("signer", fontName=f"{FAMILY}-Bold", fontSize=11.5, leading=15, alignment=TA_CENTER),
        "signer_name": s("signer_name", fontName=f"{FAMILY}-Bold", fontSize=11.5, leading=15, alignment=TA_CENTER),
        "page": s("page", fontSize=10, alignment=TA_CENTER),
    }


def P(text: str | int, style: ParagraphStyle) -> Paragraph:
    """A paragraph of data text: always escaped, never markup."""
    return Paragraph(escape(str(text)), style)


class _SectionStart(Flowable):
    """Zero-size marker: a new commune (a new document) starts on this page."""

    def __init__(self, state: dict):
        super().__init__()
        self.state = state

    def wrap(self, aw, ah):
        return 0, 0

    def draw(self):
        self.state["start"] = self.canv.getPageNumber()


def balanced_lines(text: str, font: str, size: float, width: float) -> list[str]:
    """Split a heading into as few lines as fit, of even length (as typed headings are)."""
    words = str(text).split()
    if not words or pdfmetrics.stringWidth(" ".join(words), font, size) <= width:
        return [" ".join(words)]
    best = None
    for n_lines in range(2, len(words) + 1):
        # try every way of cutting into n_lines (headings are short: few words)
        for cuts in itertools.combinations(range(1, len(words)), n_lines - 1):
            bounds = (0, *cuts, len(words))
            lines = [" ".join(words[a:b]) for a, b in itertools.pairwise(bounds)]
            widest = max(pdfmetrics.stringWidth(x, font, size) for x in lines)
            # Vietnamese words are several syllables ("THỂ THAO"): break at a comma or before "và"
            good = sum(1 for c in cuts if words[c - 1].endswith(",") or words[c].lower() in GOOD_BREAK_BEFORE)
            score = widest - 1000 * good
            if widest <= width and (best is None or score < best[0]):
                best = (score, lines)
        if best is not None or len(words) > 12:
            break
    return best[1] if best else [" ".join(words)]


def heading(text: str, style: ParagraphStyle, width: float) -> Paragraph:
    lines = balanced_lines(text, style.fontName, style.fontSize, width)
    return Paragraph("<br/>".join(escape(x) for x in lines), style)


def _header(doc, st) -> Table:
    t, iss = doc.texts, doc.issuer
    left_w, right_w = 75 * mm, CONTENT_WIDTH - 75 * mm
    body_lines = balanced_lines(iss.issuing_body, f"{FAMILY}-Bold", 10.5, left_w)
    body_w = max(pdfmetrics.stringWidth(x, f"{FAMILY}-Bold", 10.5) for x in body_lines)
    motto_w = pdfmetrics.stringWidth(t["motto"], f"{FAMILY}-Bold", 11)
    left = [
        heading(iss.parent_body, st["parent"], left_w),
        heading(iss.issuing_body, st["body_name"], left_w),
    ]
    rule_w = body_w * 0.4
    left.append(
        HRFlowable(width=rule_w, thickness=0.6, color=colors.black, hAlign="CENTER", spaceBefore=3, spaceAfter=0)
    )
    right = [
        heading(t["national_title"], st["nation"], right_w),
        P(t["motto"], st["motto"]),
        HRFlowable(
            width=min(motto_w, right_w - 4 * mm),
            thickness=0.6,
            color=colors.black,
            hAlign="CENTER",
            spaceBefore=2,
            spaceAfter=0,
        ),
    ]
    table = Table(
        [[left, right], [P(doc.number_line, st["number"]), P(doc.place_date, st["place_date"])]],
        colWidths=[left_w, right_w],
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FAMILY, 11),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 1), (-1, 1), 7),
            ]
        )
    )
    return table


def _schedule_table(doc, commune, st) -> Table:
    t = doc.texts
    widths = [9, 24, 21.5, 17, 14, 14, 33, 33]
    scale = CONTENT_WIDTH / (sum(widths) * mm)
    widths = [w * mm * scale for w in widths]
    head = [
        Paragraph(escape(t[k]), st["th"])
        for k in (
            "col_no",
            "col_village",
            "col_date",
            "col_weekday",
            "col_arrival",
            "col_departure",
            "col_stop",
            "col_walkers",
        )
    ]
    data = [head]
    for i, r in enumerate(commune.rows, 1):
        data.append(
            [
                P(i, st["tdc"]),
                P(r.villages, st["td"]),
                P(t.date(r.date), st["tdc"]),
                P(r.weekday, st["tdc"]),
                P(r.arrival.strftime("%H:%M"), st["tdc"]),
                P(r.departure.strftime("%H:%M"), st["tdc"]),
                P(r.stop, st["td"]),
                P(", ".join(r.walkers), st["td"]),
            ]
        )
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(_grid_style())
    return table


def _others_table(doc, commune, st) -> Table:
    t = doc.texts
    widths = [9 * mm, 45 * mm, CONTENT_WIDTH - 54 * mm]
    data = [[Paragraph(escape(t[k]), st["th"]) for k in ("col_no", "col_village", "col_situation")]]
    for i, o in enumerate(commune.others, 1):
        data.append([P(i, st["tdc"]), P(o.name, st["td"]), P(o.situation, st["td"])])
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(_grid_style())
    return table


def _grid_style() -> TableStyle:
    return TableStyle(
        [
            ("FONT", (0, 0), (-1, -1), FAMILY, 9),
            ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("LEFTPADDING", (0, 0), (-1, -1), 3),
            ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
    )


def _footer_block(doc, commune, st) -> Table:
    t, iss = doc.texts, doc.issuer
    left = [
        Paragraph(escape(t["recipients"]), st["recipients"]),
        P(t.fmt("recipient_commune", commune_full=commune.full), st["recipient"]),
        P(t["recipient_heads"], st["recipient"]),
        P(t["recipient_archive"], st["recipient"]),
    ]
    right = []
    if iss.signer_prefix:
        right.append(P(iss.signer_prefix, st["signer"]))
    right += [P(iss.signer_title, st["signer"]), Spacer(1, 24 * mm)]
    if iss.signer_name:
        right.append(P(iss.signer_name, st["signer_name"]))
    else:  # a line for the name to be written in by hand
        right.append(HRFlowable(width=45 * mm, thickness=0.4, dash=(1, 2), color=colors.black, hAlign="CENTER"))
    table = Table([[left, right]], colWidths=[CONTENT_WIDTH * 0.5, CONTENT_WIDTH * 0.5])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FAMILY, 11),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "CENTER"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def commune_story(doc, commune, st, state) -> list:
    t = doc.texts
    story: list = [_SectionStart(state), _header(doc, st), Spacer(1, 8 * mm)]
    story += [
        heading(t["title"], st["title"], CONTENT_WIDTH),
        heading(commune.heading, st["subtitle"], CONTENT_WIDTH),
    ]
    if doc.period:
        story.append(P(doc.period, st["period"]))
    story += [
        HRFlowable(width=30 * mm, thickness=0.6, color=colors.black, hAlign="CENTER", spaceBefore=4),
        Spacer(1, 5 * mm),
    ]
    story.append(P(t.fmt("intro", organisation=doc.issuer.organisation, commune_full=commune.full), st["body"]))

    story.append(P(t["section_schedule"], st["section"]))
    if commune.rows:
        story.append(_schedule_table(doc, commune, st))
    else:
        story.append(P(t["no_visits"], st["body"]))

    section_notes = t["section_notes"]
    if commune.others:
        story += [
            CondPageBreak(30 * mm),
            P(t["section_other"], st["section"]),
            _others_table(doc, commune, st),
        ]
    else:  # renumber: no section II
        section_notes = section_notes.replace("III.", "II.", 1)
    notes = [t["note_return"], t["note_children"], t["note_time"]]
    if any(r.walkers for r in commune.rows):
        notes.insert(2, t["note_walkers"])
    notes_block = [P(section_notes, st["section"])] + [P(f"- {n}", st["note"]) for n in notes]
    story.append(KeepTogether(notes_block))
    if doc.approximated:
        story += [
            Spacer(1, 2 * mm),
            HRFlowable(width=40 * mm, thickness=0.4, color=colors.black, hAlign="LEFT", spaceAfter=2),
            P(f"(*) {t['footnote_approx']}", st["footnote"]),
        ]
    story += [Spacer(1, 6 * mm), KeepTogether(_footer_block(doc, commune, st))]
    return story


def write_pdf(doc, communes, path: Path) -> Path:
    """Write the schedules of ``communes`` (one document each, a new page each) to ``path``."""
    register_fonts()
    st = _styles()
    state = {"start": 1}

    def on_page_end(canvas, _doc):
        page = canvas.getPageNumber() - state["start"] + 1
        if page > 1:  # Decree 30: page numbers from the second page, top centre
            canvas.saveState()
            canvas.setFont(FAMILY, 10)
            canvas.drawCentredString(MARGIN_LEFT + CONTENT_WIDTH / 2, A4[1] - 12 * mm, str(page))
            canvas.restoreState()

    title = doc.texts["title"] + (f" - {communes[0].heading}" if len(communes) == 1 else "")
    template = BaseDocTemplate(
        str(path),
        pagesize=A4,
        leftMargin=MARGIN_LEFT,
        rightMargin=MARGIN_RIGHT,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        author=doc.issuer.organisation,
        subject=doc.period,
        creator="planner",
        lang="vi-VN" if doc.texts.lang == "vi" else "en",
        invariant=1,
        initialFontName=FAMILY,
        initialFontSize=11.5,
    )
    frame = Frame(
        MARGIN_LEFT,
        MARGIN_BOTTOM,
        CONTENT_WIDTH,
        A4[1] - MARGIN_TOP - MARGIN_BOTTOM,
        id="body",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    template.addPageTemplates([PageTemplate(id="page", frames=[frame], onPageEnd=on_page_end)])
    story: list = []
    for i, commune in enumerate(communes):
        if i:
            story.append(PageBreak())
        story += commune_story(doc, commune, st, state)
    if not story:
        story = [P(doc.texts["no_visits"], st["body"])]
    template.build(story)
    return path
