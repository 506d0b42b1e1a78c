"""Issue 10, part 8: the issuer comes from configuration; schedules by pre-2025 or 2025 communes."""

from __future__ import annotations

import datetime as dt

import pytest

from planner.model.errors import InputError
from planner.render.document import DOCUMENT_DEFAULTS, build_document, document_settings
from tests.test_printables import make_area, make_plan

DAY = dt.date(2026, 11, 26)


def _area(post: dict[str, str]):
    area = make_area()
    area.communes["post2025_commune"] = [post[c] for c in area.communes["code"]]
    return area


def test_default_issuer_is_documented():
    doc = build_document(make_plan(), make_area(), issuer={"date": DAY})
    assert doc.issuer.parent_body == DOCUMENT_DEFAULTS["parent_body"] == "UBND HUYỆN MƯỜNG TÈ"
    assert doc.issuer.symbol == DOCUMENT_DEFAULTS["number_prefix"] == "LPV-TTVHTTTT"
    assert doc.issuer.place == "Mường Tè"


def test_issuer_from_document_section():
    section = {
        "parent_body": "UBND XÃ BUM TỞ",
        "issuing_body": "TRUNG TÂM DỊCH VỤ TỔNG HỢP",
        "place": "Bum Tở",
        "number_prefix": "LPV-TTDV",
        "signatory": "Lò Văn A",
        "date": DAY,
    }
    iss = build_document(make_plan(), make_area(), issuer=section).issuer
    assert (iss.parent_body, iss.issuing_body, iss.place) == ("UBND XÃ BUM TỞ", "TRUNG TÂM DỊCH VỤ TỔNG HỢP", "Bum Tở")
    assert iss.symbol == "LPV-TTDV" and iss.signer_name == "Lò Văn A"


def test_bad_document_section_lists_every_problem():
    with pytest.raises(InputError) as err:
        document_settings({"parent": "x", "units": "1999"})
    assert "'parent'" in str(err.value) and "'1999'" in str(err.value)


def test_units_2025_merges_communes():
    # Mù Cả (C1) and Ka Lăng (C2) put, for the test, into one 2025 commune "Thu Lũm":
    # one schedule holding the rows of both; pre-2025 grouping gives two.
    area = _area({"C1": "Thu Lũm", "C2": "Thu Lũm"})
    old = build_document(make_plan(), area, issuer={"date": DAY})
    new = build_document(make_plan(), area, issuer={"date": DAY}, units="2025")
    assert sorted(c.name for c in old.communes) == ["Ka Lăng", "Mù Cả"]
    assert [c.name for c in new.communes] == ["Thu Lũm"]
    assert new.communes[0].heading == "Xã Thu Lũm"
    assert len(new.communes[0].rows) == sum(len(c.rows) for c in old.communes)
    assert new.communes[0].population == sum(c.population for c in old.communes)


def test_units_from_the_document_section():
    area = _area({"C1": "Mù Cả", "C2": "Thu Lũm"})
    doc = build_document(make_plan(), area, issuer={"date": DAY, "units": "2025"})
    assert sorted(c.name for c in doc.communes) == ["Mù Cả", "Thu Lũm"]


def test_units_2025_needs_the_mapping():
    with pytest.raises(InputError, match="post2025_commune"):
        build_document(make_plan(), make_area(), issuer={"date": DAY}, units="2025")
