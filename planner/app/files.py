"""The app's folder: input data, scenario files, run folders and uploads, all under one root.

Layout (the root is the folder of the workspace database, ``workspace/`` by default)::

    workspace/app.db           accounts and jobs (planner.app.store)
    workspace/data/            the area the app plans: villages, sites, roads, communes
    workspace/scenarios/*.toml scenario settings saved from the Plan page
    workspace/outputs/<run>/   run folders (plan.json, map, PDFs, workbook, calendars)
    workspace/uploads/         files being imported (named by the app, never by the user)

Every path built from a request goes through :func:`inside`, which refuses anything that
would leave its folder.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import tempfile
import threading
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from planner.io import DEFAULT_DATA_DIR, check, find_layers, read_villages
from planner.model.errors import Problem

SPEEDS_FILE = "speeds.toml"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
VILLAGE_FIELDS = ("id", "name", "commune_code", "commune", "population", "children", "households", "visits_per_cycle")
INT_FIELDS = ("population", "children", "households", "visits_per_cycle")
#: Import formats: suffix -> what the first bytes must look like.
UPLOAD_SUFFIXES = (".csv", ".xlsx", ".geojson", ".json", ".gpkg", ".zip", ".pbf")


class PathRefused(ValueError):
    """A path built from input would leave its folder, or a name is not a plain name."""


def inside(base: Path, *parts: str) -> Path:
    """``base / parts`` resolved, refused unless it stays inside ``base``.

    Parameters
    ----------
    base : path
        The folder the result must stay in.
    parts : str
        Path pieces from a request.

    Returns
    -------
    Path
        The resolved path.

    Raises
    ------
    PathRefused
        For absolute pieces, ``..`` escapes and symlinks that point out of ``base``.
    """
    base = Path(base).resolve()
    for p in parts:
        if not p or "\x00" in p or Path(p).is_absolute() or "\\" in p:
            raise PathRefused(f"refused path {p!r}")
    target = base.joinpath(*parts).resolve()
    if target != base and not target.is_relative_to(base):
        raise PathRefused("refused path: it leaves the workspace")
    return target


def plain_name(name: str) -> str:
    """``name`` if it is a plain file or run name (letters, digits, ``_.-``), else :class:`PathRefused`."""
    if not NAME_RE.match(name or "") or ".." in name:
        raise PathRefused(f"not a plain name: {name!r} (letters, digits, '_', '.', '-')")
    return name


def sniff_upload(suffix: str, head: bytes) -> bool:
    """Whether the first bytes of an upload match its suffix (a type check beyond the name)."""
    if suffix in (".xlsx", ".zip"):
        return head.startswith(b"PK\x03\x04")
    if suffix == ".gpkg":
        return head.startswith(b"SQLite format 3\x00")
    if suffix in (".geojson", ".json"):
        return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{")
    if suffix == ".csv":
        return b"\x00" not in head
    if suffix == ".pbf":
        return len(head) > 8 and b"OSMHeader" in head[:64]
    return False


async def save_upload(upload, folder: Path, prefix: str, suffixes: tuple[str, ...]) -> Path | None:
    """Write an upload into ``folder`` under a name the app makes; None if its type is refused.

    The type check looks at the name's suffix (one of ``suffixes``) and at the first bytes
    (:func:`sniff_upload`); the user's file name never becomes a path.
    """
    name = (upload.filename or "").lower()
    suffix = next((s for s in suffixes if name.endswith(s)), None)
    head = await upload.read(1024)
    if suffix is None or not sniff_upload(suffix, head):
        return None
    dest = inside(folder, f"{prefix}-{secrets.token_hex(8)}{suffix}")
    with dest.open("wb") as out:
        out.write(head)
        while chunk := await upload.read(1 << 20):
            out.write(chunk)
    return dest


#: The checker's last answer, by the data files' (path, mtime, size): pages read it without re-checking.
CHECKED: dict[tuple, tuple[list[Problem], list[Problem]]] = {}
CHECK_LOCK = threading.Lock()
#: Held while the villages layer is read, changed and written, so two edits never lose one another.
VILLAGES_LOCK = threading.RLock()


@dataclass(frozen=True)
class Workspace:
    """The folders of one workspace (see the module docs)."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def scenarios(self) -> Path:
        return self.root / "scenarios"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    def ensure(self, source: Path | None = None) -> Workspace:
        """Create the folders; copy the shipped data (or ``source``) and scenarios on first use."""
        for d in (self.root, self.scenarios, self.outputs, self.uploads):
            d.mkdir(parents=True, exist_ok=True)
        if not self.data.exists():
            src = Path(source) if source else DEFAULT_DATA_DIR
            self.data.mkdir()
            for kind, path in find_layers(src).items():
                shutil.copy2(path, self.data / f"{kind}{path.suffix}")
            if not any(self.scenarios.iterdir()) and (src / "scenarios").is_dir():
                for f in (src / "scenarios").glob("*.toml"):
                    shutil.copy2(f, self.scenarios / f.name)
        return self

    # ------------------------------------------------------------ runs
    def runs(self) -> list[str]:
        """Names of finished run folders, newest first."""
        found = [p for p in self.outputs.iterdir() if p.is_dir() and not p.name.startswith(".")]
        return [p.name for p in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)]

    def run_dir(self, run: str) -> Path:
        """The folder of run ``run`` (a plain name inside ``outputs/``)."""
        return inside(self.outputs, plain_name(run))

    # ------------------------------------------------------------ road speeds
    def speeds(self) -> dict:
        """The workspace's road speeds, ``{profile: {season: {road_class: kph}}}`` (empty: the defaults)."""
        f = self.root / SPEEDS_FILE
        return tomllib.loads(f.read_text(encoding="utf-8")).get("profiles", {}) if f.exists() else {}

    def save_speeds(self, profiles: dict) -> None:
        """Write ``speeds.toml``; every plan and comparison of the workspace uses these speeds."""
        lines = ["# road speeds (km/h) set on the Data page; 0 = the vehicle may not use the road"]
        for p, seasons in profiles.items():
            for season, classes in seasons.items():
                lines.append(f"[profiles.{plain_name(p)}.{plain_name(season)}]")
                lines += [f"{plain_name(c)} = {float(v)}" for c, v in classes.items()]
        tmp = self.root / (SPEEDS_FILE + ".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(self.root / SPEEDS_FILE)

    # ------------------------------------------------------------ scenarios
    def scenario_names(self) -> list[str]:
        """Scenario files, by stem."""
        return sorted(p.stem for p in self.scenarios.glob("*.toml"))

    def scenario_path(self, name: str) -> Path:
        """The TOML file of scenario ``name``."""
        return inside(self.scenarios, plain_name(name) + ".toml")

    def scenario(self, name: str) -> dict:
        """The settings in a scenario file (its own keys, not the merged base)."""
        return tomllib.loads(self.scenario_path(name).read_text(encoding="utf-8"))

    # ------------------------------------------------------------ villages
    def villages_path(self) -> Path:
        return find_layers(self.data)["villages"]

    def villages(self) -> gpd.GeoDataFrame:
        """The villages layer as stored (unvalidated: it may hold the rows being fixed)."""
        return gpd.read_file(self.villages_path())

    def save_villages(self, gdf: gpd.GeoDataFrame) -> None:
        """Write the villages layer as GeoJSON atomically (replacing any other format)."""
        old = self.villages_path()
        # an optional column the table added but nobody filled is left out of the file
        empty = [c for c in ("households", "children", "visits_per_cycle") if c in gdf and gdf[c].isna().all()]
        gdf = gdf.drop(columns=empty)
        fd, tmp = tempfile.mkstemp(suffix=".geojson", dir=self.data, prefix=".villages-")
        os.close(fd)
        Path(tmp).unlink()
        gdf.to_file(tmp, driver="GeoJSON")
        Path(tmp).replace(self.data / "villages.geojson")
        if old.name != "villages.geojson":
            old.unlink(missing_ok=True)

    def check(self, villages: gpd.GeoDataFrame | None = None) -> tuple[list[Problem], list[Problem]]:
        """``planner check`` on the workspace data, optionally with a candidate villages layer."""
        paths = find_layers(self.data)
        if villages is None:
            key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(paths.values()))
            with CHECK_LOCK:
                if key not in CHECKED:
                    CHECKED.clear()  # only the current files' answer is kept
                    CHECKED[key] = check(paths)
                return CHECKED[key]
        with tempfile.TemporaryDirectory(dir=self.root, prefix=".check-") as tmp:
            candidate = Path(tmp) / "villages.geojson"
            villages.to_file(candidate, driver="GeoJSON")
            return check({**paths, "villages": candidate})

    def import_villages(self, upload: Path) -> tuple[int, list[Problem]]:
        """Read an uploaded villages file; if it can be read, make it the villages layer.

        Returns
        -------
        rows, problems
            Rows read (0 when the file could not be read, and the layer is unchanged) and the reader's
            problems that the checker of the stored layer does not repeat (see :meth:`check` for the rest).
        """
        problems: list[Problem] = []
        communes = gpd.read_file(find_layers(self.data)["communes"])
        gdf = read_villages(upload, problems=problems, commune_codes=communes)
        if gdf is None or not len(gdf):
            return 0, problems or [Problem(upload.name, "file", "-", None, "no villages could be read")]
        gdf = gdf.copy()
        gdf.attrs = {}
        with VILLAGES_LOCK:
            self.save_villages(gdf)
        errors, warnings = self.check()
        seen = {(p.field, p.rule) for p in errors + warnings}
        return len(gdf), [p for p in problems if (p.field, p.rule) not in seen]


def problems_by_village(problems: list[Problem], ids: list[str]) -> dict[str, dict[str, str]]:
    """``{village id: {field: rule}}`` for the problems that name a village by id or row."""
    out: dict[str, dict[str, str]] = {}
    for p in problems:
        if p.severity != "error" or "villages" not in p.file:
            continue
        m = re.search(r"id=([^ ]+)", p.feature)
        row = re.search(r"row (\d+)", p.feature)
        vid = m.group(1) if m else None
        if vid is None and row and 0 <= int(row.group(1)) - 1 < len(ids):
            vid = ids[int(row.group(1)) - 1]
        if vid is not None:
            out.setdefault(vid, {})[p.field] = p.rule
    return out


def village_row(gdf: gpd.GeoDataFrame, i: int) -> dict:
    """One village as plain values for a form (lon/lat from its point)."""
    r = gdf.iloc[i]
    g = r.geometry
    row = {f: ("" if f not in gdf or pd.isna(r[f]) else r[f]) for f in VILLAGE_FIELDS}
    for f in INT_FIELDS:
        value = row[f]
        if value != "" and isinstance(value, float) and value.is_integer():
            row[f] = int(value)
    row["lon"] = round(g.x, 6) if g is not None and not g.is_empty else ""
    row["lat"] = round(g.y, 6) if g is not None and not g.is_empty else ""
    return row


def apply_village_form(gdf: gpd.GeoDataFrame, index: int | None, form: dict) -> tuple[gpd.GeoDataFrame, dict]:
    """A copy of ``gdf`` with row ``index`` (or a new row) set from form values.

    Returns the candidate layer and the form's own errors (fields that are not numbers).
    """
    errors: dict[str, str] = {}
    values: dict = {}
    for f in VILLAGE_FIELDS:
        v = (form.get(f) or "").strip()
        if f in INT_FIELDS:
            if v == "":
                values[f] = None
            else:
                try:
                    values[f] = int(v)
                except ValueError:
                    errors[f] = "not an integer (a whole number)"
                    values[f] = None
        else:
            values[f] = v or None
    try:
        point = Point(float(form.get("lon", "")), float(form.get("lat", "")))
    except ValueError:
        errors["lon"] = "longitude and latitude must be decimal degrees"
        point = None
    gdf = gdf.copy()
    for f in VILLAGE_FIELDS:
        if f not in gdf:
            gdf[f] = None
        if f in INT_FIELDS:
            gdf[f] = gdf[f].astype("object")
    if index is None:
        new = {c: None for c in gdf.columns if c != "geometry"}
        new.update(values)
        gdf = pd.concat([gdf, gpd.GeoDataFrame([new], geometry=[point], crs=gdf.crs)], ignore_index=True)
    else:
        for f, v in values.items():
            gdf.at[gdf.index[index], f] = v
        if point is not None:
            gdf.loc[gdf.index[index], "geometry"] = point
    return gpd.GeoDataFrame(gdf, geometry="geometry", crs=gdf.crs), errors


def layers_geojson(ws: Workspace) -> str:
    """Villages, sites and roads as one JSON object of GeoJSON collections (for the data map)."""
    out = {}
    for kind, path in find_layers(ws.data).items():
        if kind == "communes":
            continue
        try:
            gdf = gpd.read_file(path)
        except Exception:  # an unreadable layer is listed by the checker; the map just omits it
            continue
        keep = [c for c in ("id", "name", "commune", "population", "kind", "road_class") if c in gdf]
        out[kind] = json.loads(gdf[keep + ["geometry"]].to_json(drop_id=True))
    return json.dumps(out, ensure_ascii=False)


def zip_folder(folder: Path) -> bytes:
    """A folder as zip bytes (for downloading a whole run)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                z.write(p, p.relative_to(folder))
    return buf.getvalue()
