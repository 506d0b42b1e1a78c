"""Readers: formats, encodings, coordinate forms, safe names, OSM PBF, and round trips."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from planner.io import read_communes, read_osm_places, read_roads, read_villages
from planner.io.coords import format_dms, parse_coordinate
from planner.io.osm import HIGHWAY_CLASS
from planner.io.safe import UnsafePathError, safe_child, slug
from planner.io.validate import road_components
from planner.io.warn import AssumedCRSWarning, EncodingFallbackWarning
from planner.model.errors import InputError

BAD = Path(__file__).parent / "bad_inputs"
AREA = BAD / "area"
HYPO = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# ------------------------------------------------------------------ safe names
@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Mường Tè", "muong-te"),
        ("Đồn Biên phòng Ka Lăng", "don-bien-phong-ka-lang"),
        ("../../etc/passwd", "etc-passwd"),
        ("..\\..\\windows\\system32", "windows-system32"),
        (".hidden", "hidden"),
        ("=cmd|' /C calc'!A0", "cmd-c-calc-a0"),
        ("CON", "con-"),
    ],
)
def test_slug(text, want):
    assert slug(text) == want


@pytest.mark.parametrize("text", ["", "..", "/", "漢字", None, "   "])
def test_slug_never_empty_and_distinct(text):
    s = slug(text)
    assert s and s[0] not in ".-" and "/" not in s and "\\" not in s
    assert slug("漢字") != slug("字漢")


def test_slug_is_capped_and_stays_distinct():
    a, b = slug("Bản " * 40 + "A"), slug("Bản " * 40 + "B")
    assert len(a) <= 64 and len(b) <= 64 and a != b


def test_safe_child(tmp_path):
    assert safe_child(tmp_path, slug("../../etc/passwd")) == tmp_path.resolve() / "etc-passwd"
    assert safe_child(tmp_path, "a/b.txt") == tmp_path.resolve() / "a" / "b.txt"
    for bad in ("../x", "/etc/passwd", "a/../../x", "C:\\x", "", "."):
        with pytest.raises(UnsafePathError, match="unsafe file name"):
            safe_child(tmp_path, bad)
    (tmp_path / "link").symlink_to("/etc")
    with pytest.raises(UnsafePathError):
        safe_child(tmp_path, "link/passwd")


# ------------------------------------------------------------------ coordinates
@pytest.mark.parametrize(
    ("text", "axis", "want"),
    [
        ("22°22'46\"N", "lat", 22 + 22 / 60 + 46 / 3600),
        ("102°49′12″E", "lon", 102.82),
        ("22 22 46 N", "lat", 22 + 22 / 60 + 46 / 3600),
        ("22°22.5'S", "lat", -(22 + 22.5 / 60)),
        ("22,3794", "lat", 22.3794),
        (" -3.5 ", "lat", -3.5),
    ],
)
def test_parse_coordinate(text, axis, want):
    assert parse_coordinate(text, axis) == pytest.approx(want)


@pytest.mark.parametrize(
    ("text", "axis", "msg"),
    [
        ("22°22'46\"E", "lat", "hemisphere E in a latitude"),
        ("22°61'", "lat", "below 60"),
        ("abc", "lon", "not a decimal degree"),
        ("1,2,3", "lat", "not a decimal degree"),
    ],
)
def test_parse_coordinate_errors(text, axis, msg):
    with pytest.raises(ValueError, match=msg):
        parse_coordinate(text, axis)


@given(st.floats(-89.99, 89.99))
@settings(max_examples=50, deadline=None)
def test_dms_round_trip(lat):
    assert parse_coordinate(format_dms(lat, "lat"), "lat") == pytest.approx(lat, abs=1e-5)


# ------------------------------------------------------------------ tables
def test_csv_with_vietnamese_headers_dms_semicolons_and_decimal_comma():
    v = read_villages(
        BAD / "villages_dms_semicolon.csv",
        columns={"id": "Mã bản", "name": "Tên bản", "commune_code": "Mã xã", "commune": "Xã", "population": "Dân số"},
    )
    assert list(v["id"]) == ["V1", "V2"]
    assert list(v["population"]) == [1200, 80]  # "1.200": Vietnamese thousands separator
    assert v.geometry.iloc[0].coords[0] == pytest.approx((102.42, 22.63))
    assert v.geometry.iloc[1].coords[0] == pytest.approx((102.47, 22.62))
    assert v.attrs["first_row"] == 2 and v.attrs["coord_fields"] == "lat/lon"


def test_column_mapping_to_a_missing_column_is_an_error():
    with pytest.raises(InputError, match=r"header: field 'id' = 'Mã'.*is not in the file"):
        read_villages(BAD / "villages_dms_semicolon.csv", columns={"id": "Mã"})


def test_utm48n_csv(tmp_path):
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32648", always_xy=True)
    e, n = to_utm.transform(102.42, 22.63)
    (tmp_path / "v.csv").write_text(
        f"id,name,commune_code,commune,population,easting,northing\nV1,Bản Một,03451,Mù Cả,120,{e:.2f},{n:.2f}\n",
        encoding="utf-8",
    )
    v = read_villages(tmp_path / "v.csv", coords="utm48n")
    assert v.crs == "EPSG:4326"
    assert v.geometry.iloc[0].coords[0] == pytest.approx((102.42, 22.63), abs=1e-6)


def test_decimal_and_dms_mixed_in_auto_mode(tmp_path):
    (tmp_path / "v.csv").write_text(
        "id,name,commune_code,commune,population,lat,lon\nV1,A,03451,Mù Cả,1,22.63,102°25'12\"E\n", encoding="utf-8"
    )
    assert read_villages(tmp_path / "v.csv").geometry.iloc[0].coords[0] == pytest.approx((102.42, 22.63))


def test_xlsx_with_formula_like_name_and_lost_leading_zero(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "name", "commune_code", "commune", "population", "lat", "lon"])
    ws.append(["V1", "Bản Một", "03451", "Mù Cả", 120, 22.63, 102.42])
    ws.append(["V2", "x", 3436, "Thu Lũm", 80.0, "22°37'12\"N", "102°28'12\"E"])
    ws.cell(row=3, column=2).value = "=cmd|' /C calc'!A0"
    ws.cell(row=3, column=2).data_type = "s"  # a text cell, as a user's file would have it
    wb.save(tmp_path / "v.xlsx")
    v = read_villages(tmp_path / "v.xlsx")
    assert list(v["name"]) == ["Bản Một", "=cmd|' /C calc'!A0"]
    assert list(v["commune_code"]) == ["03451", "3436"]  # the validator hints at the lost zero
    assert list(v["population"]) == [120, 80]


@pytest.mark.parametrize("name", ["villages_formula_names.csv", "villages_script_names.csv"])
def test_formula_and_script_names_are_valid_and_round_trip(tmp_path, name):
    raw = pd.read_csv(BAD / name, dtype=str, keep_default_na=False)
    v = read_villages(BAD / name)
    assert list(v["name"]) == list(raw["name"])
    v.to_file(tmp_path / "v.geojson")
    again = read_villages(tmp_path / "v.geojson")
    assert list(again["name"]) == list(raw["name"])
    v.drop(columns="geometry").assign(lat=v.geometry.y, lon=v.geometry.x).to_csv(tmp_path / "v.csv", index=False)
    assert list(read_villages(tmp_path / "v.csv")["name"]) == list(raw["name"])


def test_cp1258_and_latin1_fallbacks(tmp_path):
    with pytest.warns(EncodingFallbackWarning, match=r"encoding' = 'cp1258'.*Vietnamese Windows"):
        v = read_villages(BAD / "villages_cp1258.csv")
    assert list(v["name"]) == ["Bản Một", "Bản Hai"]
    assert all(unicodedata.is_normalized("NFC", n) for n in v["name"])
    (tmp_path / "v.csv").write_bytes(
        "id,name,commune_code,commune,population,lat,lon\nV1,Bản\x8d,03451,Mù Cả,1,22.63,102.42\n".encode(
            "latin-1", "ignore"
        ).replace(b"B", b"B\x8d", 1)
    )
    with pytest.warns(EncodingFallbackWarning, match="latin-1"):
        read_villages(tmp_path / "v.csv")


def test_utf8_bom_is_silent(tmp_path):
    text = (BAD / "villages_swapped.csv").read_text(encoding="utf-8").replace("102.42,22.63", "22.63,102.42")
    (tmp_path / "v.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert list(read_villages(tmp_path / "v.csv")["id"]) == ["V1", "V2"]


# ------------------------------------------------------------------ geodata
def test_shapefile_without_prj_and_cut_names(tmp_path):
    v = gpd.read_file(AREA / "villages.geojson")
    v["approx_position"] = [True, False]
    with pytest.warns((UserWarning, RuntimeWarning)):  # pyogrio: no crs; field names laundered
        v.set_crs(None, allow_override=True).to_file(tmp_path / "v.shp")
    with pytest.warns(AssumedCRSWarning, match="assumed WGS84"):
        got = read_villages(tmp_path / "v.shp")
    assert "commune_code" in got and "approx_position" in got  # .dbf cut them to 10 characters
    assert list(got["commune_code"]) == ["03451", "03436"]
    assert list(got["approx_position"]) == [True, False]


def test_geopackage_in_utm_is_converted(tmp_path):
    c = gpd.read_file(AREA / "communes.geojson").to_crs("EPSG:32648")
    c.to_file(tmp_path / "c.gpkg")
    got = read_communes(tmp_path / "c.gpkg")
    assert got.crs == "EPSG:4326"
    assert got.total_bounds == pytest.approx([102.40, 22.60, 102.50, 22.65], abs=1e-6)


def test_missing_file_and_unsupported_type(tmp_path):
    with pytest.raises(InputError, match="nope.csv: file: field '-' = None: file not found"):
        read_villages(tmp_path / "nope.csv")
    (tmp_path / "v.docx").write_text("x")
    with pytest.raises(InputError, match="unsupported file type .docx"):
        read_villages(tmp_path / "v.docx")


def test_empty_csv(tmp_path):
    (tmp_path / "v.csv").write_text("")
    with pytest.raises(InputError, match="the file is empty"):
        read_villages(tmp_path / "v.csv")


# ------------------------------------------------------------------ OSM
@pytest.fixture(scope="module")
def test_pbf():
    import pyrosm

    return pyrosm.get_data("test_pbf")  # shipped inside the pyrosm package, no download


def test_pbf_roads_make_a_routable_network(test_pbf):
    roads = read_roads(test_pbf, validate=False)
    assert set(roads["road_class"]) <= {"national", "provincial", "commune", "track"}
    assert set(roads["highway"]) <= set(HIGHWAY_CLASS)
    assert roads["id"].is_unique
    lines_m = roads.to_crs(roads.estimate_utm_crs()).geometry.to_numpy()
    labels, graph = road_components(lines_m)
    assert graph.number_of_edges() >= len(roads)
    biggest = max(nx.connected_components(graph), key=len)
    assert graph.subgraph(biggest).number_of_edges() >= 800
    assert np.bincount(labels).max() >= 800
    # Clipped to a polygon: fewer roads, all inside (with the clip's tolerance).
    box = shapely.box(26.94, 60.52, 26.96, 60.535)
    clipped = read_roads(test_pbf, area_polygon=box, validate=False)
    assert 0 < len(clipped) < len(roads)
    assert clipped.geometry.within(box.buffer(1e-9)).all()


def test_pbf_places_are_offered_as_villages(test_pbf):
    places = read_osm_places(test_pbf)
    assert list(places["name"]) == ["Kannikko"] and list(places["place"]) == ["hamlet"]
    assert places["approx_population"].all() and places["population"].isna().all()
    assert places.geometry.geom_type.eq("Point").all()


def test_truncated_pbf_is_an_input_error(tmp_path, test_pbf):
    data = Path(test_pbf).read_bytes()
    (tmp_path / "cut.osm.pbf").write_bytes(data[: len(data) // 3])
    with pytest.raises(InputError, match="cut.osm.pbf: file: field '-' = None: cannot be read as OSM PBF"):
        read_roads(tmp_path / "cut.osm.pbf")


# ------------------------------------------------------------------ properties
VIET = "aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵĐƯƠ"
names = st.text(
    st.sampled_from(VIET + " -'\"=+@<>/\\,;|") | st.characters(categories=("L", "M", "N", "P", "S", "Zs")),
    min_size=0,
    max_size=20,
)
village = st.fixed_dictionaries(
    {
        "name": names,
        "population": st.integers(-5, 100_000),
        "lon": st.floats(102.2, 102.9, allow_nan=False),
        "lat": st.floats(22.2, 22.9, allow_nan=False),
    }
)


def _expected_name(name: str) -> str | None:
    return unicodedata.normalize("NFC", name).strip() or None


@given(rows=st.lists(village, min_size=1, max_size=6), fmt=st.sampled_from(["csv", "geojson"]))
@HYPO
def test_villages_round_trip_or_input_error(tmp_path_factory, rows, fmt):
    tmp = tmp_path_factory.mktemp("hv")
    df = pd.DataFrame(rows).assign(id=[f"V{i}" for i in range(len(rows))], commune_code="03451", commune="Mù Cả")
    if fmt == "csv":
        path = tmp / "v.csv"
        df.to_csv(path, index=False)
    else:
        path = tmp / "v.geojson"
        gpd.GeoDataFrame(
            df.drop(columns=["lon", "lat"]), geometry=gpd.points_from_xy(df.lon, df.lat), crs="EPSG:4326"
        ).to_file(path)
    try:
        got = read_villages(path)
    except InputError as exc:
        assert exc.problems, "an InputError lists its problems"
        bad = {p.feature for p in exc.problems}
        for i, r in enumerate(rows):
            if r["population"] < 0 or _expected_name(r["name"]) is None:
                assert any(f"id=V{i} " in f for f in bad)
        return
    assert all(r["population"] >= 0 and _expected_name(r["name"]) for r in rows)
    assert list(got["id"]) == list(df["id"])
    assert list(got["name"]) == [_expected_name(r["name"]) for r in rows]
    assert list(got["population"]) == [r["population"] for r in rows]
    xy = np.array([g.coords[0] for g in got.geometry])
    assert xy == pytest.approx(df[["lon", "lat"]].to_numpy(), abs=1e-9)


@given(
    segments=st.lists(
        st.lists(st.tuples(st.floats(102.2, 102.9), st.floats(22.2, 22.9)), min_size=2, max_size=4),
        min_size=1,
        max_size=5,
    ),
    classes=st.lists(
        st.sampled_from(["national", "provincial", "commune", "track", "motorway", ""]), min_size=5, max_size=5
    ),
    fmt=st.sampled_from(["csv", "geojson"]),
)
@HYPO
def test_roads_round_trip_or_input_error(tmp_path_factory, segments, classes, fmt):
    tmp = tmp_path_factory.mktemp("hr")
    geoms = [shapely.LineString(s) for s in segments]
    gdf = gpd.GeoDataFrame(
        {"id": [f"R{i}" for i in range(len(geoms))], "road_class": classes[: len(geoms)]},
        geometry=geoms,
        crs="EPSG:4326",
    )
    if fmt == "csv":
        path = tmp / "r.csv"
        pd.DataFrame({"id": gdf["id"], "road_class": gdf["road_class"], "wkt": [g.wkt for g in geoms]}).to_csv(
            path, index=False
        )
    else:
        path = tmp / "r.geojson"
        gdf.to_file(path)
    try:
        got = read_roads(path)
    except InputError as exc:
        assert exc.problems
        assert any(c not in ("national", "provincial", "commune", "track") for c in classes[: len(geoms)]) or any(
            g.length == 0 for g in geoms
        )
        return
    assert list(got["road_class"]) == classes[: len(geoms)]
    for a, b in zip(got.geometry, geoms):
        assert shapely.get_coordinates(a) == pytest.approx(shapely.get_coordinates(b), abs=1e-9)


@given(data=st.binary(max_size=300), suffix=st.sampled_from([".csv", ".geojson", ".xlsx", ".gpkg"]))
@HYPO
def test_garbage_files_only_raise_input_error(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("hg") / f"v{suffix}"
    path.write_bytes(data)
    try:
        read_villages(path)
    except InputError as exc:
        assert exc.problems
    except Warning:
        pass  # a decodable file may only warn (encoding fallback): also not a crash
