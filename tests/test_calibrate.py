"""Issue 10, part 5: ``planner calibrate`` fits road speeds to measured driving times."""

from __future__ import annotations

import json

import pytest

from planner.cli import main
from planner.io import load_area
from planner.model.errors import InputError
from planner.planning.calibrate import check_travel_times, fit_speeds, read_travel_times, write_calibrated_roads
from tests.conftest import config, write_area


@pytest.fixture
def two_class_area(tmp_path):
    # Depot at km 0; national road km 0-10 (40 km/h: 15 min), commune road km 10-20 (20 km/h: 30 min).
    folder = write_area(
        tmp_path / "cal",
        villages=[("V1", "Bản Một", 10.0, 100), ("V2", "Bản Hai", 20.0, 100)],
        roads=[("R1", "national", 0.0, 10.0), ("R2", "commune", 10.0, 20.0)],
    )
    return folder


def _csv(folder, text):
    path = folder / "travel_times.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_fit_by_class_by_hand(two_class_area):
    # Measured: depot -> V1 30 min (twice the 15), depot -> V2 90 min (30 + 60).
    # Both classes are driven at half their speed: multipliers 0.5, fitted times exact.
    area = load_area(two_class_area)
    pairs = read_travel_times(_csv(two_class_area, "from,to,minutes\nDEPOT,Bản Một,30\nKho sách,V2,90\n"), area)
    fit = fit_speeds(area, config().profile("van"), pairs)
    assert fit.multipliers["national"] == pytest.approx(0.5, abs=1e-3)
    assert fit.multipliers["commune"] == pytest.approx(0.5, abs=1e-3)
    assert [p["before_min"] for p in fit.pairs] == pytest.approx([15, 45], abs=0.2)
    assert [p["fitted_min"] for p in fit.pairs] == pytest.approx([30, 90], abs=0.2)
    assert fit.road_speed_kph == pytest.approx({"R1": 20.0, "R2": 10.0}, abs=0.05)


def test_fit_is_bounded(two_class_area):
    # 600 min for a 15-min road would need x 0.025; the bound is 0.25: fitted 60 min.
    area = load_area(two_class_area)
    pairs = read_travel_times(_csv(two_class_area, "from,to,minutes\nDEPOT,V1,600\n"), area)
    fit = fit_speeds(area, config().profile("van"), pairs)
    assert fit.multipliers["national"] == pytest.approx(0.25, abs=1e-3)
    assert fit.pairs[0]["fitted_min"] == pytest.approx(60, abs=0.2)
    assert fit.multipliers["commune"] == 1.0  # on no measured path: unchanged


def test_fit_by_road(two_class_area):
    # Per road, with the ridge pulling towards 1: R2 only is measured slow (V1 -> V2 60 min vs 30).
    area = load_area(two_class_area)
    pairs = read_travel_times(_csv(two_class_area, "from,to,minutes\nV1,V2,60\nDEPOT,V1,15\n"), area)
    fit = fit_speeds(area, config().profile("van"), pairs, by="road")
    assert fit.multipliers["R1"] == pytest.approx(1.0, abs=0.02)
    assert 0.5 <= fit.multipliers["R2"] < 0.6  # 0.5 exactly without the ridge


def test_bad_rows_are_all_reported(two_class_area):
    area = load_area(two_class_area)
    path = _csv(two_class_area, "from,to,minutes\nDEPOT,Bản Không Có,30\nV1,V1,10\nV1,V2,mười\n")
    with pytest.raises(InputError) as err:
        read_travel_times(path, area)
    text = str(err.value)
    for needle in ("row 2", "Bản Không Có", "row 3", "same place", "row 4", "mười"):
        assert needle in text, needle


def test_check_reports_pairs_off_by_more_than_the_tolerance(two_class_area):
    # Model 15 and 45 min; measured 16 (7 % off: fine) and 90 (50 % off: reported).
    area = load_area(two_class_area)
    pairs = read_travel_times(_csv(two_class_area, "from,to,minutes\nDEPOT,V1,16\nDEPOT,V2,90\n"), area)
    warnings = check_travel_times(area, config().profile("van"), pairs, tolerance_pct=20)
    assert len(warnings) == 1 and "row 3" in warnings[0].feature and "45 min" in warnings[0].rule


def test_calibrated_roads_file_is_written_and_readable(two_class_area, tmp_path):
    area = load_area(two_class_area)
    pairs = read_travel_times(_csv(two_class_area, "from,to,minutes\nDEPOT,V1,30\nDEPOT,V2,90\n"), area)
    fit = fit_speeds(area, config().profile("van"), pairs)
    out = write_calibrated_roads(two_class_area / "roads.geojson", fit, tmp_path / "o" / "roads.geojson")
    props = {f["properties"]["id"]: f["properties"] for f in json.loads(out.read_text(encoding="utf-8"))["features"]}
    assert props["R1"]["speed_kph"] == pytest.approx(20.0, abs=0.05)
    assert props["R2"]["speed_kph"] == pytest.approx(10.0, abs=0.05)
    assert not list((tmp_path / "o").glob(".*tmp"))  # atomic: no temporary file left


def test_cli_calibrate_on_the_shipped_example(tmp_path, capsys):
    out = tmp_path / "roads.geojson"
    assert main(["calibrate", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Thu Lũm" in text and "RMS error" in text and out.is_file()
