"""What a printed schedule says, built once from a plan: communes, visits, issuer, notes.

The PDF, HTML, workbook, calendar and interchange renderers only lay it out.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from planner.model.area import units_2025
from planner.model.errors import InputError, Problem
from planner.render.i18n import STRINGS, Texts, tr
from planner.render.tables import STOPS_COLUMNS, stop_rows

VISIT_KINDS = ("village", "site")

#: The lead's ``stops.csv`` columns; the workbook's full schedule sheet uses the same.
STOP_COLUMNS = STOPS_COLUMNS  # the columns of stops.csv

RESERVED_SLUGS = {"all", "all_communes", "all-communes"}

DEFAULT_ISSUER_SYMBOL = "LPV-TTVHTTTT"

# ----- issue 10, part 8: who issues the printables, and by which units (begin) -----
#: Administrative units the schedules are grouped by: the data's pre-2025 communes, or the
#: 2025 communes they merged into (``post2025_commune`` of the villages or communes).
UNITS = ("pre2025", "2025")

#: Defaults of the configuration's ``[document]`` section; each key may be overridden there
#: (or through ``issuer=``). They are the units named by the district directive of 2024
#: (the Media Centre under the district People's Committee). Since 1 July 2025 Vietnam has no
#: district level: set ``parent_body``, ``issuing_body``, ``organisation``, ``place`` and the
#: signatory to today's units. In English the defaults are the translations of
#: :mod:`planner.render.i18n`; a value set in the configuration is printed as given.
DOCUMENT_DEFAULTS: dict[str, str] = {
    "parent_body": STRINGS["vi"]["parent_body"],  # UBND HUYỆN MƯỜNG TÈ
    "issuing_body": STRINGS["vi"]["issuing_body"],  # TRUNG TÂM VĂN HÓA, THỂ THAO VÀ TRUYỀN THÔNG
    "organisation": STRINGS["vi"]["organisation"],
    "place": STRINGS["vi"]["place"],  # Mường Tè
    "number_prefix": DEFAULT_ISSUER_SYMBOL,  # "Số: …/LPV-TTVHTTTT"
    "signer_title": STRINGS["vi"]["signer_title"],  # GIÁM ĐỐC
    "signer_name": "",  # blank: a dotted line to sign on
    "signer_prefix": "",  # e.g. "KT. GIÁM ĐỐC"
    "units": "pre2025",
}
#: Other names accepted for the keys above.
DOCUMENT_ALIASES = {"symbol": "number_prefix", "signatory": "signer_name", "date": "date", "number": "number"}


def document_settings(section: Mapping | None) -> dict:
    """The ``[document]`` section with aliases resolved; unknown keys or units raise one InputError."""
    out: dict = {}
    bad = []
    known = ", ".join(sorted(set(DOCUMENT_DEFAULTS) | set(DOCUMENT_ALIASES)))
    for key, value in dict(section or {}).items():
        canon = DOCUMENT_ALIASES.get(key, key)
        if canon not in DOCUMENT_DEFAULTS and canon not in ("date", "number"):
            bad.append(Problem("config", "[document]", key, value, f"unknown key; known keys: {known}"))
        else:
            out[canon] = value
    if str(out.get("units", "pre2025")) not in UNITS:
        bad.append(Problem("config", "[document]", "units", out["units"], f"must be one of {', '.join(UNITS)}"))
    if bad:
        raise InputError(bad)
    return out


# ----- issue 10, part 8 (end) -----


# --------------------------------------------------------------------------- model


@dataclass
class Issuer:
    """Who issues the schedule; every field can be overridden through ``issuer=``."""

    parent_body: str
    issuing_body: str
    organisation: str
    place: str
    date: dt.date
    number: str = ""
    symbol: str = DEFAULT_ISSUER_SYMBOL
    signer_title: str = ""
    signer_name: str = ""
    signer_prefix: str = ""  # e.g. "KT. GIÁM ĐỐC" line above a deputy's title


@dataclass
class ScheduleRow:
    villages: str  # the village(s) whose own stop this is
    date: dt.date
    weekday: str
    arrival: dt.datetime
    departure: dt.datetime
    stop: str  # van stop name (with the kind of site)
    walkers: list[str]
    vehicle: str
    books: int
    stop_id: str
    kind: str


@dataclass
class OtherVillage:
    name: str
    situation: str


@dataclass
class CommuneSchedule:
    code: str
    name: str
    slug: str
    heading: str  # "Xã Mù Cả"
    full: str  # "xã Mù Cả" (in running text)
    rows: list[ScheduleRow]
    others: list[OtherVillage]
    village_names: list[str]
    population: int
    population_served: int
    villages_served: int


@dataclass
class Document:
    """Everything the PDF/HTML renderers need, already in the output language."""

    texts: Texts
    issuer: Issuer
    period_start: dt.date | None
    period_end: dt.date | None
    approximated: bool
    communes: list[CommuneSchedule] = field(default_factory=list)

    @property
    def period(self) -> str:
        if not self.period_start or not self.period_end:
            return ""
        return self.texts.fmt("period", start=self.texts.date(self.period_start), end=self.texts.date(self.period_end))

    @property
    def number_line(self) -> str:
        number = self.issuer.number or "\u00a0" * 8
        return self.texts.fmt("number", number=number, symbol=self.issuer.symbol)

    @property
    def place_date(self) -> str:
        return self.texts.place_date(self.issuer.place, self.issuer.date)


# --------------------------------------------------------------------------- helpers


def slugify(text: str, fallback: str = "commune") -> str:
    """ASCII, lower-case, ``[a-z0-9-]`` only: ``Mù Cả`` -> ``mu-ca``; never path-like."""
    text = str(text).replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    slug = slug[:60].strip("-")
    return slug or fallback


def safe_path(base: Path, *parts: str) -> Path:
    """Join and check that the result stays inside ``base``."""
    base = base.resolve()
    path = base.joinpath(*parts).resolve()
    if base != path and base not in path.parents:
        raise ValueError(f"refusing to write outside {base}: {path}")
    return path


def _to_date(value) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.datetime.fromisoformat(str(value)).date()
    except ValueError:
        return None


def visits(plan) -> list[tuple]:
    """``(day, stop)`` for every village/site stop, in date, vehicle, time order."""
    out = []
    for day in sorted(plan.days, key=lambda d: (d.date, d.vehicle)):
        for stop in day.stops:
            if stop.kind in VISIT_KINDS:
                out.append((day, stop))
    out.sort(key=lambda ds: (ds[0].date, ds[1].arrival, ds[0].vehicle, ds[1].seq))
    return out


def stop_table(plan) -> list[dict]:
    """The rows of ``stops.csv`` (every stop event), with real dates and datetimes for the workbook."""
    rows = []
    by_key = {(d.vehicle, d.date.isoformat(), s.seq): (d, s) for d in plan.days for s in d.stops}
    for r in stop_rows(plan):
        day, stop = by_key[(r["vehicle"], r["date"], r["seq"])]
        rows.append(r | {"date": day.date, "arrival": stop.arrival, "departure": stop.departure})
    return rows


def plan_period(plan) -> tuple[dt.date | None, dt.date | None]:
    dates = [d.date for d in plan.days]
    return (min(dates), max(dates)) if dates else (None, None)


class Lookup:
    """Names and communes of villages and sites, from the area then the plan."""

    def __init__(self, plan, area) -> None:
        self.village_name: dict[str, str] = {}
        self.village_commune: dict[str, str] = {}
        self.village_population: dict[str, int] = {}
        self.site_name: dict[str, str] = {}
        self.site_kind: dict[str, str] = {}
        self.commune_name: dict[str, str] = {}
        self.commune_order: list[str] = []
        for vs in plan.villages:
            self.village_name[str(vs.village_id)] = str(vs.name)
            self.village_commune[str(vs.village_id)] = str(vs.commune_code)
            self.village_population[str(vs.village_id)] = int(vs.population or 0)
        if area is not None:
            if "code" in area.communes:
                for _, c in area.communes.iterrows():
                    code = str(c["code"])
                    self.commune_name[code] = str(c.get("name", code))
                    self.commune_order.append(code)
            for _, v in area.villages.iterrows():
                vid = str(v["id"])
                self.village_name[vid] = str(v["name"])
                self.village_commune[vid] = str(v["commune_code"])
                pop = v.get("population", 0)
                self.village_population[vid] = 0 if pd.isna(pop) else int(pop)
                self.commune_name.setdefault(str(v["commune_code"]), str(v.get("commune", v["commune_code"])))
            for _, s in area.sites.iterrows():
                self.site_name[str(s["id"])] = str(s["name"])
                self.site_kind[str(s["id"])] = str(s.get("kind", ""))
        for vs in plan.villages:
            self.commune_name.setdefault(str(vs.commune_code), str(vs.commune))

    def villages_of(self, code: str) -> list[str]:
        return [vid for vid, c in self.village_commune.items() if c == code]

    def communes_with_villages(self) -> list[str]:
        present = set(self.village_commune.values())
        order = [c for c in self.commune_order if c in present]
        order += sorted(present - set(order), key=lambda c: (self.commune_name.get(c, c), c))
        return order

    def vname(self, vid: str) -> str:
        return self.village_name.get(str(vid), str(vid))


def make_issuer(texts: Texts, issuer: Mapping | None, plan) -> Issuer:
    """The issuer from ``issuer`` (keys of :data:`DOCUMENT_DEFAULTS`, aliases accepted), else the defaults."""
    issuer = document_settings(issuer)
    date = _to_date(issuer.get("date")) or dt.date.today()
    return Issuer(
        parent_body=str(issuer.get("parent_body", texts["parent_body"])),
        issuing_body=str(issuer.get("issuing_body", texts["issuing_body"])),
        organisation=str(issuer.get("organisation", texts["organisation"])),
        place=str(issuer.get("place", texts["place"])),
        date=date,
        number=str(issuer.get("number", "")),
        symbol=str(issuer.get("number_prefix", DOCUMENT_DEFAULTS["number_prefix"])),
        signer_title=str(issuer.get("signer_title", texts["signer_title"])),
        signer_name=str(issuer.get("signer_name") or texts["signer_name_placeholder"]),
        signer_prefix=str(issuer.get("signer_prefix", "")),
    )


def regroup_units(look: Lookup, area, units: str) -> dict[str, str]:
    """Regroup ``look`` by 2025 communes (``units == "2025"``); return old code -> new key.

    The mapping comes from the data (:func:`planner.model.area.units_2025`): each village's
    ``post2025_commune``, else its commune's. A 2025 commune is keyed by its name; its order is
    that of its first pre-2025 unit.
    """
    if units == "pre2025" or area is None:
        return {}
    mapping = units_2025(area, look.village_commune.items())
    order = [mapping.by_code.get(c) for c in look.commune_order]
    for vid, code in list(look.village_commune.items()):
        look.village_commune[vid] = mapping.of_village(vid, code)
    look.commune_order = list(dict.fromkeys([o for o in order if o] + sorted(set(look.village_commune.values()))))
    look.commune_name = {new: new for new in look.commune_order}
    return mapping.by_code


def villages_of_sites(plan) -> dict[str, list[str]]:
    """Per site stop id, the villages it serves: a fixed library point's villages, a school's pupils'."""
    out: dict[str, list[str]] = {}
    for vs in plan.villages:
        if vs.channel == "fixed_point":
            for sid in vs.served_by:
                out.setdefault(str(sid), []).append(str(vs.village_id))
    for row in (getattr(plan, "run", None) or {}).get("school_sessions", ()):
        out.setdefault(str(row["site"]), []).extend(str(v) for v in row.get("pupils_from", ()))
    return out


def is_approximated(plan, area) -> bool:
    if area is not None and getattr(area, "approximated", False):
        return True
    notices = list(getattr(plan, "notices", ())) + list(getattr(area, "notices", ()) if area is not None else ())
    return any("approx" in str(n).lower() for n in notices)


def build_document(
    plan, area, *, lang: str = "vi", issuer: Mapping | None = None, units: str | None = None
) -> Document:
    """The document of ``plan``; ``units`` ("pre2025" or "2025", default from ``issuer``) groups the communes."""
    texts = tr(lang)
    look = Lookup(plan, area)
    units = units or str(document_settings(issuer).get("units", DOCUMENT_DEFAULTS["units"]))
    if units not in UNITS:
        raise InputError([Problem("options", "units", "units", units, f"must be one of {', '.join(UNITS)}")])
    new_code = regroup_units(look, area, units)
    start, end = plan_period(plan)
    doc = Document(
        texts=texts,
        issuer=make_issuer(texts, issuer, plan),
        period_start=start,
        period_end=end,
        approximated=is_approximated(plan, area),
    )
    service = {str(v.village_id): v for v in plan.villages}
    unserved = {str(u.village_id): u for u in plan.unserved}
    all_visits = visits(plan)
    site_villages = villages_of_sites(plan)
    used_slugs: set[str] = set()
    for code in look.communes_with_villages():
        name = look.commune_name.get(code, code)
        slug = slugify(name, fallback=slugify(code, "commune"))
        if slug in RESERVED_SLUGS:
            slug = f"xa-{slug}"
        base, n = slug, 2
        while slug in used_slugs:
            slug, n = f"{base}-{n}", n + 1
        used_slugs.add(slug)

        vids = look.villages_of(code)
        rows: list[ScheduleRow] = []
        for day, stop in all_visits:
            served = [str(v) for v in stop.villages_served]
            walkers = [str(v) for v in stop.walkers]
            if new_code.get(str(stop.commune_code), str(stop.commune_code)) != code and not any(
                look.village_commune.get(v) == code for v in served + walkers
            ):
                continue
            own = [look.vname(v) for v in served if v not in walkers]
            if not own and stop.kind == "village":
                own = [stop.stop_name]
            elif not own:
                own = [look.vname(v) for v in site_villages.get(str(stop.stop_id), ())]
            stop_label = stop.stop_name
            kind = look.site_kind.get(str(stop.stop_id), "")
            if stop.kind == "site" and kind and kind != "depot":
                stop_label = f"{stop.stop_name} {texts.fmt('site_stop_note', kind=texts.site_kind(kind))}"
            rows.append(
                ScheduleRow(
                    villages=", ".join(own),
                    date=day.date,
                    weekday=texts.weekday(day.date),
                    arrival=stop.arrival,
                    departure=stop.departure,
                    stop=stop_label,
                    walkers=[look.vname(v) for v in walkers],
                    vehicle=day.vehicle,
                    books=int(stop.books),
                    stop_id=str(stop.stop_id),
                    kind=stop.kind,
                )
            )

        others: list[OtherVillage] = []
        served_count = 0
        pop_served = 0
        for vid in vids:
            vs = service.get(vid)
            un = unserved.get(vid)
            if vs is not None and vs.channel in ("van_stop", "walk"):
                served_count += 1
                pop_served += int(vs.population or 0)
                continue
            if vs is not None and vs.channel == "fixed_point":
                served_count += 1
                pop_served += int(vs.population or 0)
                names = [look.site_name.get(str(s), str(s)) for s in vs.served_by]
                where = (": " + ", ".join(names)) if names else ""
                situation = texts.fmt("situation_fixed_point", where=where)
            elif un is not None:
                situation = texts.reason(un.reason)
                if texts.lang == "en" and un.detail:
                    situation += f" ({un.detail})"
            else:
                situation = texts.reason("other")
            others.append(OtherVillage(name=look.vname(vid), situation=situation))

        doc.communes.append(
            CommuneSchedule(
                code=code,
                name=name,
                slug=slug,
                heading=texts.commune_heading(name),
                full=texts.commune_full(name),
                rows=rows,
                others=others,
                village_names=[look.vname(v) for v in vids],
                population=sum(look.village_population.get(v, 0) for v in vids),
                population_served=pop_served,
                villages_served=served_count,
            )
        )
    return doc
