"""Vietnamese and English texts of the printable schedules, calendars and workbook.

``tr(lang)`` returns a :class:`Texts` object; look strings up as ``t["key"]``
(or ``t.fmt("key", **values)``). Unknown languages fall back to Vietnamese.
Dates are always written day first (``26/11/2026``), as in Vietnam.
"""

from __future__ import annotations

import datetime as dt

LANGS = ("vi", "en")

WEEKDAYS = {
    "vi": ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
EN_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

STRINGS: dict[str, dict[str, str]] = {
    "vi": {
        # Issuing body and national title (Decree 30/2020/ND-CP, form 1.x)
        "parent_body": "UBND HUYỆN MƯỜNG TÈ",
        "issuing_body": "TRUNG TÂM VĂN HÓA, THỂ THAO VÀ TRUYỀN THÔNG",
        "organisation": "Trung tâm Văn hóa, Thể thao và Truyền thông huyện Mường Tè",
        "national_title": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "number": "Số: {number}/{symbol}",
        "place": "Mường Tè",
        "place_date": "{place}, ngày {day:02d} tháng {month:02d} năm {year}",
        "title": "LỊCH PHỤC VỤ THƯ VIỆN LƯU ĐỘNG",
        "commune_prefix": "Xã",
        "period": "Từ ngày {start} đến ngày {end}",
        "intro": (
            "Thực hiện chủ trương phát triển mô hình thư viện lưu động phục vụ người dân học tập "
            "suốt đời tại cơ sở, {organisation} thông báo lịch xe thư viện lưu động đến phục vụ "
            "bà con các bản thuộc {commune_full} như sau:"
        ),
        "section_schedule": "I. LỊCH XE THƯ VIỆN ĐẾN CÁC BẢN",
        "section_other": "II. CÁC BẢN CHƯA CÓ XE ĐẾN TRONG KỲ NÀY",
        "section_notes": "III. ĐỀ NGHỊ BÀ CON LƯU Ý",
        "no_visits": "Trong kỳ này xe thư viện chưa có lịch đến các bản của xã.",
        # Table columns
        "col_no": "TT",
        "col_village": "Bản",
        "col_date": "Ngày",
        "col_weekday": "Thứ",
        "col_arrival": "Giờ đến",
        "col_departure": "Giờ đi",
        "col_stop": "Điểm dừng xe",
        "col_walkers": "Bản đi bộ đến điểm này",
        "col_situation": "Tình hình phục vụ",
        "col_vehicle": "Xe",
        "col_books": "Số sách",
        "site_stop_note": "(điểm {kind})",
        # Situations
        "situation_fixed_point": "Phục vụ tại điểm thư viện cố định{where}",
        "situation_walk": "Đi bộ đến điểm dừng xe: {where}",
        "reason_unreachable": "Chưa có đường xe đến được trong mùa này",
        "reason_too_far_for_shift": "Quá xa, chưa đi về được trong một ngày làm việc",
        "reason_not_enough_time": "Chưa bố trí được thời gian trong kỳ này",
        "reason_fixed_point_only": "Phục vụ tại điểm thư viện cố định",
        "reason_other": "Chưa được phục vụ",
        "visits_short": " (được phục vụ {visits}/{required} lượt)",
        # Notes for villagers
        "note_return": "Bà con mang trả sách đã mượn ở lần trước khi xe thư viện đến; sách mượn được giữ đến lần xe đến sau.",
        "note_children": "Các em thiếu nhi được chào đón đến đọc và mượn sách; mọi dịch vụ của thư viện lưu động đều miễn phí.",
        "note_walkers": "Bà con các bản ghi ở cột «Bản đi bộ đến điểm này» đến điểm dừng xe đúng giờ ghi trong lịch.",
        "note_time": "Giờ xe đến có thể sớm hoặc muộn hơn do thời tiết, đường sá; khi lịch thay đổi, UBND xã sẽ báo cho trưởng các bản.",
        "footnote_approx": (
            "Vị trí các bản và đường giao thông trong lịch này là ước tính, giờ đến có thể chênh lệch. "
            "Đề nghị UBND xã và trưởng các bản góp ý để Trung tâm điều chỉnh cho sát thực tế."
        ),
        # Recipients and signature
        "recipients": "Nơi nhận:",
        "recipient_commune": "- UBND {commune_full};",
        "recipient_heads": "- Trưởng các bản;",
        "recipient_archive": "- Lưu: VT.",
        "signer_title": "GIÁM ĐỐC",
        "signer_name_placeholder": "",
        "page": "Trang {page}",
        # Workbook
        "sheet_schedule": "Lịch",
        "sheet_summary": "Tổng hợp",
        "summary_heading": "Tổng hợp kế hoạch",
        "summary_key": "Chỉ tiêu",
        "summary_value": "Giá trị",
        "communes_heading": "Theo xã",
        "col_commune": "Xã",
        "col_villages_total": "Số bản",
        "col_villages_served": "Số bản được phục vụ",
        "col_population_total": "Dân số",
        "col_population_served": "Dân số được phục vụ",
        "col_visits": "Lượt xe dừng",
        "col_workbook_situation": "Ghi chú",
        # Calendar
        "cal_name": "Lịch thư viện lưu động",
        "cal_summary": "Thư viện lưu động: {stop}",
        "cal_villages": "Bản được phục vụ: {names}",
        "cal_walkers": "Bản đi bộ đến: {names}",
        "cal_books": "Sách mang theo: {books}",
        "cal_vehicle": "Xe: {vehicle}",
        "none": "không",
    },
    "en": {
        "parent_body": "MUONG TE DISTRICT PEOPLE'S COMMITTEE",
        "issuing_body": "CENTRE FOR CULTURE, SPORTS AND COMMUNICATION",
        "organisation": "Mường Tè District Centre for Culture, Sports and Communication",
        "national_title": "SOCIALIST REPUBLIC OF VIET NAM",
        "motto": "Independence - Freedom - Happiness",
        "number": "No.: {number}/{symbol}",
        "place": "Mường Tè",
        "place_date": "{place}, {day} {month_name} {year}",
        "title": "MOBILE LIBRARY SERVICE SCHEDULE",
        "commune_prefix": "Commune",
        "period": "From {start} to {end}",
        "intro": (
            "As part of developing mobile library services so that people in remote places can keep "
            "learning all their lives, the {organisation} announces when the mobile library van will "
            "serve the villages of {commune_full}:"
        ),
        "section_schedule": "I. WHEN THE LIBRARY VAN COMES TO EACH VILLAGE",
        "section_other": "II. VILLAGES WITHOUT A VAN VISIT IN THIS PERIOD",
        "section_notes": "III. PLEASE NOTE",
        "no_visits": "The library van has no visit to this commune's villages in this period.",
        "col_no": "No.",
        "col_village": "Village",
        "col_date": "Date",
        "col_weekday": "Day",
        "col_arrival": "Arrive",
        "col_departure": "Leave",
        "col_stop": "Van stop",
        "col_walkers": "Villages walking to this stop",
        "col_situation": "Situation",
        "col_vehicle": "Vehicle",
        "col_books": "Books",
        "site_stop_note": "({kind})",
        "situation_fixed_point": "Served by a fixed library point{where}",
        "situation_walk": "Walks to the van stop: {where}",
        "reason_unreachable": "No road the van can use reaches it in this season",
        "reason_too_far_for_shift": "Too far to reach and return within a working day",
        "reason_not_enough_time": "No time left for it in this period",
        "reason_fixed_point_only": "Served by a fixed library point",
        "reason_other": "Not served",
        "visits_short": " (served {visits} of {required} visits)",
        "note_return": "Please bring back the books you borrowed when the van comes; you may keep books until the next visit.",
        "note_children": "Children are welcome to read and borrow books; every mobile library service is free.",
        "note_walkers": "People of the villages in the column “Villages walking to this stop” please come to the van stop at the time shown.",
        "note_time": "The van may be early or late because of weather and roads; if the schedule changes, the commune People's Committee will tell the village heads.",
        "footnote_approx": (
            "Village positions and roads in this schedule are estimates, so arrival times may differ. "
            "Commune officials and village heads are asked to send corrections to the Centre."
        ),
        "recipients": "Recipients:",
        "recipient_commune": "- People's Committee of {commune_full};",
        "recipient_heads": "- Village heads;",
        "recipient_archive": "- Filed: Records.",
        "signer_title": "DIRECTOR",
        "signer_name_placeholder": "",
        "page": "Page {page}",
        "sheet_schedule": "Schedule",
        "sheet_summary": "Summary",
        "summary_heading": "Plan summary",
        "summary_key": "Indicator",
        "summary_value": "Value",
        "communes_heading": "By commune",
        "col_commune": "Commune",
        "col_villages_total": "Villages",
        "col_villages_served": "Villages served",
        "col_population_total": "Population",
        "col_population_served": "Population served",
        "col_visits": "Van stops",
        "col_workbook_situation": "Note",
        "cal_name": "Mobile library schedule",
        "cal_summary": "Mobile library: {stop}",
        "cal_villages": "Villages served: {names}",
        "cal_walkers": "Villages walking here: {names}",
        "cal_books": "Books carried: {books}",
        "cal_vehicle": "Vehicle: {vehicle}",
        "none": "none",
    },
}

SITE_KINDS = {
    "vi": {
        "depot": "trụ sở",
        "culture_centre": "nhà văn hóa",
        "learning_centre": "trung tâm học tập cộng đồng",
        "post_office_point": "điểm bưu điện - văn hóa xã",
        "private_library": "thư viện tư nhân",
        "school": "trường học",
        "border_post": "đồn biên phòng",
    },
    "en": {
        "depot": "depot",
        "culture_centre": "culture centre",
        "learning_centre": "community learning centre",
        "post_office_point": "post-office cultural point",
        "private_library": "private library",
        "school": "school",
        "border_post": "border guard post",
    },
}

SUMMARY_LABELS = {
    "vi": {
        "villages_served": "Số bản được phục vụ",
        "population_served": "Dân số được phục vụ",
        "children_served": "Số trẻ em được phục vụ",
        "stops": "Số lượt xe dừng",
        "distance_km": "Quãng đường (km)",
        "driving_h": "Thời gian lái xe (giờ)",
        "service_h": "Thời gian phục vụ (giờ)",
        "nights_away": "Số đêm ở lại",
        "books": "Số sách",
        "villages_total": "Tổng số bản",
        "population_total": "Tổng dân số",
        "children_total": "Tổng số trẻ em",
        "population_served_pct": "Tỷ lệ dân số được phục vụ (%)",
        "days": "Số ngày xe chạy",
    },
    "en": {
        "villages_served": "Villages served",
        "population_served": "Population served",
        "children_served": "Children served",
        "stops": "Van stops",
        "distance_km": "Distance (km)",
        "driving_h": "Driving time (h)",
        "service_h": "Service time (h)",
        "nights_away": "Nights away",
        "books": "Books",
        "villages_total": "Villages in total",
        "population_total": "Population in total",
        "children_total": "Children in total",
        "population_served_pct": "Population served (%)",
        "days": "Working days",
    },
}


class Texts:
    """The strings of one language."""

    def __init__(self, lang: str):
        self.lang = lang if lang in STRINGS else "vi"
        self._s = STRINGS[self.lang]

    def __getitem__(self, key: str) -> str:
        return self._s[key]

    def fmt(self, key: str, **values) -> str:
        return self._s[key].format(**values)

    def weekday(self, date: dt.date) -> str:
        return WEEKDAYS[self.lang][date.weekday()]

    def date(self, date: dt.date) -> str:
        return date.strftime("%d/%m/%Y")

    def place_date(self, place: str, date: dt.date) -> str:
        return self.fmt(
            "place_date",
            place=place,
            day=date.day,
            month=date.month,
            year=date.year,
            month_name=EN_MONTHS[date.month - 1],
        )

    def site_kind(self, kind: str) -> str:
        return SITE_KINDS[self.lang].get(kind, kind)

    def reason(self, reason: str) -> str:
        return self._s.get(f"reason_{reason}", self._s["reason_other"])

    def summary_label(self, key: str) -> str:
        return SUMMARY_LABELS[self.lang].get(key, key)

    def commune_full(self, name: str) -> str:
        """``Mù Cả`` -> ``xã Mù Cả`` (in running text); names already typed keep their word."""
        low = name.lower()
        if low.startswith(("xã ", "thị trấn ", "phường ", "commune ", "town ")):
            return name
        if self.lang == "en":
            return f"{name} commune"
        return f"xã {name}"

    def commune_heading(self, name: str) -> str:
        """Heading under the title: ``Xã Mù Cả``."""
        low = name.lower()
        if low.startswith(("xã ", "thị trấn ", "phường ", "commune ", "town ")):
            return name[:1].upper() + name[1:]
        return f"{self['commune_prefix']} {name}"


def tr(lang: str) -> Texts:
    return Texts(lang)
