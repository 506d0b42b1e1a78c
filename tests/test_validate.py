"""Validation: every hostile file in tests/bad_inputs/ gives exactly the problems pinned beside it.

The tiny area in ``tests/bad_inputs/area/`` (hand-drawn, valid):

    lat 22.65 +-------------+-------------+
              |  03451      |  03436      |      R4 goes north from (102.425, 22.625)
              |  Mù Cả   R4 |  Thu Lũm    |
    lat 22.625| D===R1==+==R2==+====R3====|      D = depot (102.401, 22.625)
              |    V1 (102.42, 22.63)  V2 (102.47, 22.62)
    lat 22.60 +-------------+-------------+
           102.40        102.45        102.50

Each ``<layer>_<case>.<ext>`` replaces that layer; ``<file>.expected`` lists the
problems, one per line, as ``severity feature: field 'f' = value: rule`` (``*`` matches
the reader library's own wording).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from planner.cli.check import main_check
from planner.io import DEFAULT_DATA_DIR, check, load_area, read_all
from planner.io.validate import road_components, validate_area
from planner.io.warn import EncodingFallbackWarning, OffRoadWalkWarning
from planner.model.errors import InputError, Problem

BAD = Path(__file__).parent / "bad_inputs"
AREA = BAD / "area"
LAYERS = ("villages", "sites", "roads", "communes")
CASES = sorted(p.with_suffix("") for p in BAD.glob("*.expected"))


def line(p: Problem) -> str:
    return f"{p.severity} {p.feature}: field '{p.field}' = {p.value!r}: {p.rule}"


def paths_with(hostile: Path) -> dict[str, Path]:
    paths = {k: AREA / f"{k}.geojson" for k in LAYERS}
    paths[hostile.name.split("_")[0]] = hostile
    return paths


def area_dir_with(tmp_path: Path, hostile: Path) -> Path:
    for f in AREA.glob("*.geojson"):
        shutil.copy(f, tmp_path / f.name)
    kind = hostile.name.split("_")[0]
    (tmp_path / f"{kind}.geojson").unlink()
    shutil.copy(hostile, tmp_path / f"{kind}{''.join(hostile.suffixes[-1:])}")
    return tmp_path


def test_tiny_area_is_clean():
    assert check(AREA) == ([], [])
    area = load_area(AREA)
    assert list(area.villages["id"]) == ["V1", "V2"]
    assert validate_area(area) == []


@pytest.mark.parametrize("hostile", CASES, ids=[c.name for c in CASES])
def test_bad_input_messages_are_pinned(hostile):
    expected = (BAD / f"{hostile.name}.expected").read_text(encoding="utf-8").splitlines()
    errors, warnings = check(paths_with(hostile))
    got = [line(p) for p in errors + warnings]
    assert len(got) == len(expected), "\n".join(got)
    for g, e in zip(got, expected):
        assert re.fullmatch(".*".join(map(re.escape, e.split("*"))), g), f"\n got: {g}\nwant: {e}"
    assert all(p.file == str(hostile) for p in errors + warnings)


# (fixture, a pattern on the id and field of one of its errors)
LOAD_ERRORS = [
    (
        "villages_swapped.csv",
        (
            r"id=V1 \(row 2\): field 'lat/lon' = \(22\.63, 102\.42\): latitude/longitude look swapped; "
            r"did you mean \(lon, lat\) = \(102\.42, 22\.63\)\?"
        ),
    ),
    ("villages_duplicate_ids.geojson", r"id=V1 \(row 2\): field 'id' = 'V1': duplicate id; first used at row 1"),
    ("villages_broken_geometry.geojson", r"id=V2 \(row 2\): field 'geometry' = 'LINESTRING"),
    ("villages_path_commune.csv", r"id=V1 \(row 2\): field 'commune' = '\.\./\.\./etc/passwd': unknown commune name"),
    ("villages_truncated.geojson", r"villages\.geojson: file: field '-' = None: cannot be read \(truncated"),
    ("villages_corrupt.xlsx", r"villages\.xlsx: file: field '-' = None: cannot be read as a table"),
    (
        "villages_bad_values.csv",
        r"id=V2 \(row 3\): field 'commune_code' = '3436': unknown commune code; did you mean '03436'",
    ),
    (
        "villages_projected_in_4326.geojson",
        r"id=V1 \(row 1\): field 'geometry' = \(334021\.0, 2502712\.0\): coordinates look projected",
    ),
    (
        "communes_bowtie.geojson",
        r"id=03451 \(row 1\): field 'geometry' = 'POLYGON .*invalid geometry: Self-intersection",
    ),
    ("sites_bad_kind.geojson", r"id=S1 \(row 1\): field 'kind' = 'library': unknown kind"),
    ("roads_bad_class.geojson", r"id=R3 \(row 3\): field 'road_class' = None: missing road_class"),
    ("roads_disconnected.geojson", r"id=R2 \(row 2\): field 'geometry' = .*not connected to the depot's road network"),
]


@pytest.mark.parametrize(("name", "pattern"), LOAD_ERRORS, ids=[n for n, _ in LOAD_ERRORS])
def test_load_area_raises_every_problem_at_once(tmp_path, name, pattern):
    data = area_dir_with(tmp_path, BAD / name)
    with pytest.raises(InputError, match=pattern) as info:
        load_area(data)
    expected = (BAD / f"{name}.expected").read_text(encoding="utf-8").splitlines()
    assert len(info.value.problems) == sum(e.startswith("error") for e in expected)


def test_load_area_warns_with_a_named_fallback(tmp_path):
    data = area_dir_with(tmp_path, BAD / "villages_cp1258.csv")
    with pytest.warns(EncodingFallbackWarning, match="read as cp1258"):
        area = load_area(data)
    assert list(area.villages["name"]) == ["Bản Một", "Bản Hai"]


def test_off_road_village_is_a_warning(tmp_path):
    villages = gpd.read_file(AREA / "villages.geojson")
    villages.loc[1, "geometry"] = shapely.Point(102.47, 22.602)  # 0.023° (2.55 km) south of R3, still in 03436
    villages.to_file(tmp_path / "v.geojson")
    paths = {**{k: AREA / f"{k}.geojson" for k in LAYERS}, "villages": tmp_path / "v.geojson"}
    errors, warnings = check(paths)
    assert errors == []
    assert [(p.feature, p.field) for p in warnings] == [("id=V2 (row 2)", "geometry")]
    assert "2,548 m from the nearest road (R3)" in warnings[0].rule
    errors, warnings = check(paths, max_offroad_m=3000)
    assert (errors, warnings) == ([], [])
    for f in AREA.glob("*.geojson"):
        shutil.copy(f, tmp_path / f.name)
    shutil.copy(tmp_path / "v.geojson", tmp_path / "villages.geojson")
    with pytest.warns(OffRoadWalkWarning, match="id=V2 .* off-road walk"):
        load_area(tmp_path)


def test_time_windows_and_frequencies_accepted_forms():
    v = gpd.read_file(AREA / "villages.geojson")
    v["time_windows"] = ["08:00-11:00; 13:30-16:00", None]
    v["visits_per_cycle"] = [0, 20]
    assert validate_area({"villages": v}) == []
    v["time_windows"] = ["24:00-25:00", "07:60-08:00"]
    v["visits_per_cycle"] = [-1, 21]
    got = {(p.feature, p.field) for p in validate_area({"villages": v})}
    assert got == {
        ("id=V1 (row 1)", "time_windows"),
        ("id=V2 (row 2)", "time_windows"),
        ("id=V1 (row 1)", "visits_per_cycle"),
        ("id=V2 (row 2)", "visits_per_cycle"),
    }


def test_missing_crs_is_a_warning_assuming_wgs84(tmp_path):
    roads = gpd.read_file(AREA / "roads.geojson").set_crs(None, allow_override=True)
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        roads.to_file(tmp_path / "roads.shp")  # no .prj
    paths = {**{k: AREA / f"{k}.geojson" for k in LAYERS}, "roads": tmp_path / "roads.shp"}
    errors, warnings = check(paths)
    assert errors == []
    assert [line(p) for p in warnings] == [
        (
            "warning file: field 'crs' = None: no CRS; assumed WGS84 (EPSG:4326, lon/lat). "
            "Add the .prj or set the CRS to silence this"
        )
    ]


def test_road_components_hand_drawn():
    # T-junction: the branch ends on an inner vertex of the main road; still one component.
    t = np.array([shapely.LineString([(0, 0), (50, 0), (100, 0)]), shapely.LineString([(50, 0.3), (50, 80)])])
    labels, _ = road_components(t)
    assert labels[0] == labels[1]
    # Three lines in metres: A-B meet exactly, B-C are 0.5 m apart (joined), D is 2 m away (not joined).
    lines = shapely.linestrings(
        [[(0, 0), (100, 0)], [(100, 0), (200, 0)], [(200.5, 0), (300, 0)], [(302, 0), (400, 0)]]
    )
    labels, graph = road_components(lines, snap_m=1.0)
    assert labels[0] == labels[1] == labels[2] != labels[3]
    assert graph.number_of_edges() == 4


def test_default_data_is_clean():
    assert (DEFAULT_DATA_DIR / "villages.geojson").exists(), "default data missing: run python -m planner.data.build"
    errors, _ = check(DEFAULT_DATA_DIR)
    assert errors == []
    frames, _ = read_all(DEFAULT_DATA_DIR)
    assert set(frames) == set(LAYERS)


def test_main_check_exit_codes_and_report(capsys, tmp_path):
    assert main_check([str(AREA)]) == 0
    assert "0 errors, 0 warnings; the data can be planned." in capsys.readouterr().out
    hostile = BAD / "villages_truncated.geojson"
    assert main_check([str(AREA), "--villages", str(hostile), "--roads", str(BAD / "roads_bad_class.geojson")]) == 2
    out = capsys.readouterr().out
    assert f"{hostile}:\n  error   file: field '-' = None: cannot be read (truncated or corrupt?)" in out
    assert "roads_bad_class.geojson:\n  error   id=R1 (row 1): field 'road_class' = 'highway'" in out
    assert out.rstrip().endswith("3 errors, 0 warnings in 2 files.")
    assert "Traceback" not in out
    assert main_check([str(tmp_path / "nowhere")]) == 2
    assert "data folder not found" in capsys.readouterr().out


def test_validator_and_planner_join_roads_the_same_way(tmp_path):
    """Two roads whose ends are 0.4 m apart across a 1 m grid line (x = …530.32 and …530.72 m in UTM, east
    of the depot): both the validator and the planner's road graph join them, so a village on the
    second road is reachable from the depot on the first."""
    import numpy as np
    import shapely
    from conftest import LAT0, load_area, lon_at, write_area

    from planner.model.config import load_config
    from planner.planning.network import build_graph, travel_matrices

    a_end, b_start = 4.9999, 5.0003  # km: x = 298530.32 and 298530.72 m in UTM 48N
    folder = write_area(
        tmp_path / "snap",
        villages=[("V", "Bản Xa", 8.0, 100)],
        roads=[
            ("A", "commune", 0.0, a_end, [(lon_at(0.0), LAT0), (lon_at(a_end), LAT0)]),
            ("B", "commune", b_start, 10.0, [(lon_at(b_start), LAT0), (lon_at(10.0), LAT0)]),
        ],
    )
    area = load_area(folder)
    lines_m = np.asarray(area.roads.to_crs("EPSG:32648").geometry.values)
    labels, _ = road_components(shapely.from_wkb(shapely.to_wkb(lines_m)), snap_m=1.0)
    assert labels[0] == labels[1]  # the validator: one component
    graph = build_graph(area)
    m = travel_matrices(area, load_config().profile("van"), graph)
    assert m.reachable(m.index("DEPOT"), m.index("V"))  # the planner: the same component
