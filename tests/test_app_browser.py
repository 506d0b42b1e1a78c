"""A new officer's journey through ``planner serve`` in headless Debian Chromium (Playwright, sync API).

The app runs with uvicorn in a subprocess on a free loopback port, on a fresh workspace.
Every request the pages make to anything but 127.0.0.1 is blocked and recorded, and the
test fails if there is one. Screenshots of each page go to ``tests/artifacts/`` (ignored by git).
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DAY = "2026-12-07"  # a Monday: the one-week plan serves the two reachable villages on one day of that week
VILLAGES_CSV = """id,name,commune_code,commune,population,children,lon,lat
T-01,Bản Mù Cả,03451,Mù Cả,420,130,102.46722,22.46778
T-02,,03451,Mù Cả,300,90,102.463587,22.430206
T-03,Bản Xi Nế,03451,Mù Cả,-5,2,102.425546,22.516393
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``planner serve`` on a fresh workspace; yields its base URL."""
    ws = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    code = "import sys; from planner.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ["serve", "--no-browser", "--port", str(port), "--db", str(ws / "workspace" / "planner.db")]
    proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ws, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("the server did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture(scope="module")
def browser():
    path = shutil.which("chromium")
    assert path, "Debian's chromium is needed (apt-get install chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def fill_all(page, values: dict[str, str]) -> None:
    for selector, value in values.items():
        page.locator(selector).fill(value)


def finished(page, box: str, timeout_s: float) -> None:
    """Wait until the job shown in ``box`` ends; fail with its message unless it is done."""
    page.wait_for_selector(f"{box} .state-done, {box} .state-failed, {box} .state-cancelled", timeout=timeout_s * 1000)
    assert page.locator(f"{box} .state-done").count() == 1, page.locator(f"{box} .job").inner_text()


def test_a_new_officers_journey(server, browser, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    outside: list[str] = []

    def only_loopback(route):
        if route.request.url.startswith("http://127.0.0.1:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    context.route("**/*", only_loopback)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("pageerror", lambda e: console_errors.append(str(e)))

    def shot(name: str) -> None:
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    # 1. open the app: Vietnamese first, keyboard reaches the skip link first
    page.goto(server + "/")
    expect(page.locator("h1")).to_have_text("Tổng quan")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    shot("01-overview")

    # 2. import a villages file with two errors and see both
    page.get_by_role("link", name="Dữ liệu").click()
    expect(page.locator("h1")).to_have_text("Dữ liệu")
    upload = tmp_path / "ban.csv"
    upload.write_text(VILLAGES_CSV, encoding="utf-8")
    page.set_input_files("#file", str(upload))
    page.get_by_role("button", name="Nhập", exact=True).click()
    problems = page.locator("#problems")
    expect(problems).to_contain_text("2 lỗi")
    expect(problems).to_contain_text("missing name")
    expect(problems).to_contain_text("negative")
    expect(page.locator("#villages tbody tr")).to_have_count(3)
    expect(page.locator("#villages tr.bad")).to_have_count(2)
    shot("02-import-errors")

    # 3. fix them in the table (inline edit with HTMX); a wrong fix is refused beside the field
    row = page.locator("#v-1")
    row.get_by_role("link", name="Sửa").click()
    page.locator("#f-1-name").fill("Bản Tó Khò")
    page.locator("#v-1").get_by_role("button", name="Lưu").click()
    expect(page.locator("#v-1")).to_contain_text("Bản Tó Khò")
    page.locator("#v-2").get_by_role("link", name="Sửa").click()
    page.locator("#f-2-population").fill("-1")
    page.locator("#v-2").get_by_role("button", name="Lưu").click()
    expect(page.locator("#v-2 .field-error")).to_contain_text("negative")
    shot("03-refused-fix")
    page.locator("#f-2-population").fill("260")
    page.locator("#v-2").get_by_role("button", name="Lưu").click()
    expect(page.locator("#v-2")).to_contain_text("260")
    page.reload()
    expect(page.locator("#problems")).to_contain_text("0 lỗi")
    expect(page.locator("#datamap[data-ready='1']")).to_have_count(1)
    assert page.locator("#datamap canvas").count() >= 1  # drawn offline, no base tiles
    assert page.get_attribute("#datamap", "data-villages") == "3"
    assert int(page.get_attribute("#datamap", "data-roads")) > 100
    shot("04-data-fixed")

    # 4. plan with the progress bar
    page.get_by_role("link", name="Lập kế hoạch").click()
    fill_all(page, {"#r-run": "tuan-1", "#r-start": DAY, "#r-weeks": "1", "#r-iter": "20000"})
    page.locator("#run-plan").click()
    expect(page.locator("#jobbox progress")).to_have_count(1)
    shot("05-plan-progress")
    finished(page, "#jobbox", 180)
    page.locator("#jobbox a.result").click()
    expect(page.locator("h1")).to_contain_text("tuan-1")
    page.wait_for_load_state("networkidle")
    run_map = page.frame_locator("iframe.runmap")
    expect(run_map.locator(".leaflet-container")).to_have_count(1)  # the result map renders offline
    expect(run_map.locator(".leaflet-overlay-pane path").first).to_be_attached()
    shot("06-plan-result")

    # 5. open a commune's PDF and find its Vietnamese title
    link = page.locator("a[href$='mu-ca.pdf']")
    expect(link).to_have_count(1)
    pdf = context.request.get(server + link.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "LỊCH PHỤC VỤ THƯ VIỆN LƯU ĐỘNG" in text and "Mù Cả" in text

    # 6. pin a visit, and move another so that it breaks the lunch rule, and see the refusal
    page.get_by_role("link", name="Chỉnh sửa", exact=True).click()
    expect(page.locator("#visits tbody tr")).to_have_count(2)
    rows = page.locator("#visits tbody tr")
    day = rows.first.get_attribute("data-date")  # the solver's day for both
    first, second = rows.nth(0).get_attribute("data-id"), rows.nth(1).get_attribute("data-id")
    fill_all(page, {"#e-village": second, "#e-date": day})
    page.locator("#e-action").select_option("pin")
    page.get_by_role("button", name="Áp dụng").click()
    expect(page.locator("#pinned")).to_contain_text(second)
    # the day's first visit moved to 11:15 ends at 12:45: no hour of lunch fits in 11:00-13:30 around it
    fill_all(page, {"#e-village": first, "#e-date": day, "#e-time": "11:15"})
    page.locator("#e-action").select_option("move")
    page.get_by_role("button", name="Áp dụng").click()
    expect(page.locator("#refused")).to_contain_text("lunch")
    expect(page.locator("#e-time")).to_have_value("11:15")  # the refused request stays in the form
    shot("07-edit-refused")

    # 7. publish
    page.goto(server + "/runs/tuan-1")
    page.locator("#publish").click()
    expect(page.locator("#plan-status")).to_have_text("đã công bố")
    expect(page.get_by_role("link", name="Phiếu ghi chép chuyến (XLSX)")).to_have_count(1)

    # 8. record a day
    page.get_by_role("link", name="Thực hiện", exact=True).click()
    rows = page.locator("#day-form tbody tr")
    expect(rows).to_have_count(2)
    for i in range(2):
        page.locator(f"select[name=held-{i}]").select_option("yes")
        fill_all(page, {f"input[name=people-{i}]": "30", f"input[name=children-{i}]": "12"})
        fill_all(page, {f"input[name=books_lent-{i}]": "25", f"input[name=books_returned-{i}]": "5"})
        page.locator(f"input[name=new_readers-{i}]").fill("3")
    page.locator("input[name=children-1]").fill("40")  # more children than people: refused, with the reason
    page.locator("#day-form button[type=submit]").click()
    expect(page.locator("#problems")).to_contain_text("more children than people")
    assert "uploads" not in page.locator("#problems").inner_text()  # no server path shown
    shot("08-record-refused")
    for i in range(2):
        page.locator(f"select[name=held-{i}]").select_option("yes")
        fill_all(page, {f"input[name=people-{i}]": "30", f"input[name=children-{i}]": "12"})
        fill_all(page, {f"input[name=books_lent-{i}]": "25", f"input[name=books_returned-{i}]": "5"})
    page.locator("#day-form button[type=submit]").click()
    expect(page.locator("#recorded")).to_contain_text("2 mới")
    shot("08-record")

    # 9. close a place and re-plan; the result shows the diff
    fill_all(page, {"#rp-from": day, "#rp-place": "T-01", "#rp-reason": "sạt lở"})
    page.get_by_role("button", name="Lập lại kế hoạch").click()
    finished(page, "main", 180)
    page.locator("a.result").click()
    expect(page.locator("#diff")).to_contain_text("Bản Mù Cả")
    expect(page.locator("#plan-status")).to_have_text("bản nháp")
    shot("09-replan-diff")

    # 10. compare two scenarios
    page.get_by_role("link", name="So sánh").click()
    page.locator("input[name=scenarios][value=baseline]").check()
    page.locator("input[name=scenarios][value=two_vans]").check()
    fill_all(page, {"#c-weeks": "1", "#c-iter": "20000"})
    page.locator("#run-compare").click()
    expect(page.locator("progress")).to_have_count(1)
    shot("10-compare-progress")
    finished(page, "main", 300)
    page.locator("a.result").click()
    expect(page.locator("#comparison tbody tr")).to_have_count(2)
    # the report's column names and number style, not the CSV's keys
    expect(page.locator("#comparison thead")).to_contain_text("Tỷ lệ dân số được phục vụ đủ tần suất (%)")
    expect(page.locator("#comparison thead")).not_to_contain_text("population_at_frequency_pct")
    page.wait_for_load_state("networkidle")
    shot("11-compare-result")

    # 11. download the report
    page.get_by_role("link", name="Báo cáo", exact=True).click()
    expect(page.locator("h1")).to_have_text("Báo cáo")
    fill_all(page, {"#rep-from": "2026-12-01", "#rep-to": "2026-12-31"})
    page.get_by_role("button", name="Lập báo cáo").click()
    pdf_link = page.locator("#report-files a[href$='report.pdf']")
    expect(pdf_link).to_have_count(1)
    rep = context.request.get(server + pdf_link.get_attribute("href"))
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(rep.body())).pages)
    assert "BÁO CÁO" in text
    shot("12-report")

    # English switch, print layout
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Report")
    page.goto(server + "/")
    expect(page.locator("#warnings")).to_contain_text("T-01")  # the closed place
    expect(page.locator("main")).to_contain_text("tuan-1")  # the published plan comes first
    page.emulate_media(media="print")
    assert page.locator("header nav").is_hidden()
    shot("13-overview-print")

    assert outside == [], f"pages asked for outside resources: {outside}"
    assert console_errors == [], console_errors
    context.close()
