"""Reading uploads: each bad file is refused with a Chinese message naming what is wrong."""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest
import xlsxwriter

from data.intake import xlsx
from data.intake.errors import IntakeError
from data.intake.read import Limits, read_upload
from data.intake.spec import load_families
from tests.data.intake.conftest import csv_bytes, xlsx_bytes

HOTLINE = load_families()["hotline"].sheet("hotline_monthly")
HEADERS = [c.header for c in HOTLINE.columns]  # 统计月份 区县代码 区县名称 诉求类型 受理量 …
ROW = ["2026-10", "360102", "东湖区", "咨询", 100, 90, 80, 60, 50]


def refused(data: bytes, filename: str, **kw) -> str:
    with pytest.raises(IntakeError) as info:
        read_upload(data, filename, **kw)
    return "；".join(str(p) for p in info.value.problems)


# ---------------------------------------------------------------- the file itself


def test_a_good_workbook_gives_canonical_columns_and_excel_row_numbers():
    parsed = read_upload(xlsx_bytes({"热线月度统计": [HEADERS, ROW, [*ROW[:3], "求助", 5, 4, 3, 2, 1]]}), "a.xlsx")
    frame = parsed.sheets["hotline_monthly"]
    assert parsed.family == "hotline"
    assert list(frame.columns) == [c.name for c in HOTLINE.columns]
    assert list(frame.index) == [2, 3]  # the header is row 1
    assert frame.at[3, "category"] == "求助" and frame.at[2, "received"] == 100
    assert frame.dtypes.eq(object).all()
    assert len(parsed.sha256) == 64


@pytest.mark.parametrize("name, message", [
    ("a.txt", "不支持的文件类型「.txt」，请上传 .xlsx 或 .csv 文件"),
    ("a.ods", "不支持的文件类型「.ods」"),
    ("a", "不支持的文件类型「（无扩展名）」"),
])
def test_a_wrong_extension_is_refused(name, message):
    assert message in refused(b"hello", name)


def test_a_macro_workbook_is_refused_by_its_extension():
    assert "不接收含宏的工作簿（.xlsm）" in refused(xlsx_bytes({"热线月度统计": [HEADERS]}), "a.xlsm")


def test_a_workbook_carrying_vba_is_refused_whatever_its_name():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, zipfile.ZipFile(io.BytesIO(xlsx_bytes({"热线月度统计": [HEADERS]}))) as src:
        for info in src.infolist():
            zf.writestr(info, src.read(info))
        zf.writestr("xl/vbaProject.bin", b"\x00" * 64)
    assert "文件包含宏（VBA）" in refused(buf.getvalue(), "a.xlsx")


def test_an_encrypted_workbook_is_refused():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    assert refused(ole, "a.xlsx") == "文件已加密，请另存为未加密的 .xlsx"


def test_a_legacy_xls_is_refused():
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    assert "不支持旧版 Excel 格式（.xls），请在 Excel 中另存为 .xlsx" in refused(ole, "a.xls")


def test_an_empty_file_is_refused():
    assert refused(b"", "a.xlsx") == "文件为空（0 字节），请检查后重新上传"


def test_a_file_over_the_size_limit_is_refused():
    data = csv_bytes([HEADERS, ROW] * 10)
    message = refused(data, "a.csv", limits=Limits(max_bytes=1024 * 1024 // 1024))
    assert f"文件大小 {len(data) / 2**20:.1f} MB，超过 0 MB 的上限" in message


def test_a_file_named_xlsx_that_is_not_a_zip_is_refused():
    assert "文件不是有效的 .xlsx 工作簿" in refused(b"month,county\n2026-10,360102\n", "a.xlsx")


def test_a_csv_that_is_a_workbook_is_told_to_use_the_xlsx_extension():
    assert "请把扩展名改为 .xlsx" in refused(xlsx_bytes({"热线月度统计": [HEADERS]}), "a.csv")


def test_a_zip_bomb_is_refused_from_its_directory_before_inflating():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 * 2**20))  # 20 MB of zeros: ~1000:1
    data = buf.getvalue()
    assert len(data) < 100_000
    assert "压缩比异常" in refused(data, "a.xlsx")
    assert "解压后达 20 MB，超过 10 MB 的上限" in refused(data, "a.xlsx",
                                                      limits=Limits(max_unzipped_bytes=10 * 2**20))


def test_a_truncated_workbook_is_refused():
    data = xlsx_bytes({"热线月度统计": [HEADERS, ROW]})
    assert "文件不是有效的 .xlsx 工作簿" in refused(data[: len(data) // 2], "a.xlsx")


def test_xml_entity_declarations_are_refused():
    good = xlsx_bytes({"热线月度统计": [HEADERS, ROW]})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, zipfile.ZipFile(io.BytesIO(good)) as src:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/workbook.xml":
                body = b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + body
            zf.writestr(info, body)
    assert "XML 实体声明" in refused(buf.getvalue(), "a.xlsx")


# ---------------------------------------------------------------- CSV


@pytest.mark.parametrize("encoding, newline", [
    ("utf-8", "\n"), ("utf-8-sig", "\n"), ("gb18030", "\r\n"), ("gbk", "\r\n"), ("utf-16", "\r\n"),
])
def test_csv_in_every_common_excel_encoding_reads_the_same(encoding, newline):
    sep_rows = [HEADERS, ROW]
    data = csv_bytes(sep_rows, encoding, newline)
    if encoding == "utf-16":  # Excel's 「Unicode 文本」: tab separated
        data = ("\r\n".join("\t".join(str(v) for v in r) for r in sep_rows) + "\r\n").encode("utf-16")
    frame = read_upload(data, "热线.csv").sheets["hotline_monthly"]
    assert frame.loc[2].tolist() == [str(v) for v in ROW]


def test_a_csv_in_no_known_encoding_is_refused():
    data = codecs.BOM_UTF8[:1] + b"\xff\xfe\xfd" * 10
    assert "无法识别 CSV 文件的编码" in refused(data, "a.csv")


def test_csv_line_numbers_and_trailing_empty_lines():
    data = csv_bytes([HEADERS, ROW, [""] * 9, [*ROW[:3], "求助", 1, 1, 1, 1, 1], [], [""] * 9])
    frame = read_upload(data, "x.csv").sheets["hotline_monthly"]
    assert list(frame.index) == [2, 4]


def test_a_csv_is_identified_by_its_headers_and_upstream_aliases():
    aliases = ["统计年月", "行政区划代码", "县区名称", "工单类型", "受理工单数", "应办结工单数", "按期办结量",
               "回访工单数", "满意工单数"]
    parsed = read_upload(csv_bytes([aliases, ROW]), "export_2026.csv")
    assert parsed.family == "hotline"
    assert list(parsed.sheets["hotline_monthly"].columns) == [c.name for c in HOTLINE.columns]


# ---------------------------------------------------------------- layout


def test_merged_header_cells_are_refused_naming_the_range():
    data = xlsx_bytes({"热线月度统计": [HEADERS, ROW]}, merge={"热线月度统计": "A1:B1"})
    assert refused(data, "a.xlsx") == "〔热线月度统计〕表头有合并单元格 A1:B1，请取消合并、每格填写完整后再上传"


def test_merged_data_cells_are_refused_naming_the_rows():
    data = xlsx_bytes({"热线月度统计": [HEADERS, ROW, ROW]}, merge={"热线月度统计": "B2:B3"})
    assert "〔热线月度统计〕第 2–3 行有合并单元格 B2:B3" in refused(data, "a.xlsx")


def test_missing_required_columns_are_named_by_their_header():
    data = xlsx_bytes({"热线月度统计": [HEADERS[:4] + HEADERS[6:], ROW[:4] + ROW[6:]]})
    assert refused(data, "a.xlsx") == "〔热线月度统计〕缺少必填列：「受理量」、「应办结量」"


def test_a_column_given_twice_is_refused():
    data = xlsx_bytes({"热线月度统计": [[*HEADERS, "受理量"], [*ROW, 1]]})
    assert "〔热线月度统计〕「受理量」出现了不止一次（第 E、J 列）" in refused(data, "a.xlsx")


def test_extra_columns_are_dropped_with_a_warning():
    parsed = read_upload(xlsx_bytes({"热线月度统计": [[*HEADERS, "备注说明"], [*ROW, "x"]]}), "a.xlsx")
    assert "备注说明" not in parsed.sheets["hotline_monthly"].columns
    assert [str(w) for w in parsed.warnings] == ["〔热线月度统计〕未识别的列「备注说明」（第 J 列）已忽略"]


def test_a_title_row_above_the_header_is_allowed():
    data = xlsx_bytes({"热线月度统计": [["2026年10月 12345 热线统计表"], ["单位：件"], HEADERS, ROW]})
    frame = read_upload(data, "a.xlsx").sheets["hotline_monthly"]
    assert list(frame.index) == [4]


def test_data_above_the_header_is_refused():
    data = xlsx_bytes({"热线月度统计": [ROW, HEADERS, ROW]})
    assert "〔热线月度统计〕表头应在第 1 行（现在第 2 行，上方还有数据）" in refused(data, "a.xlsx")


def test_a_formula_without_a_cached_value_is_named_by_row_and_column():
    data = xlsx_bytes({"热线月度统计": [HEADERS, ROW, [*ROW[:4], "=E2*2", *ROW[5:]]]})
    assert refused(data, "a.xlsx") == ("〔热线月度统计〕第 3 行「受理量」是公式但没有计算结果，"
                                       "请在 Excel 中打开并保存后再上传")


def test_a_formula_with_its_cached_value_is_read_as_the_value():
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("热线月度统计")
    ws.write_row(0, 0, HEADERS)
    ws.write_row(1, 0, ROW)
    ws.write_formula("E2", "=90+10", None, 100)
    wb.close()
    assert read_upload(buf.getvalue(), "a.xlsx").sheets["hotline_monthly"].at[2, "received"] == 100


def test_empty_trailing_rows_and_the_example_row_are_ignored():
    example = [c.example for c in HOTLINE.columns]
    data = xlsx_bytes({"热线月度统计": [HEADERS, example, ROW, [None] * 9, [""] * 9]})
    parsed = read_upload(data, "a.xlsx")
    assert list(parsed.sheets["hotline_monthly"].index) == [3]
    assert "〔热线月度统计〕第 2 行与模板示例行相同，已视为示例忽略" in [str(w) for w in parsed.warnings]


@pytest.mark.parametrize("suffix", ["xlsx", "csv"])
def test_a_sheet_over_the_row_limit_is_refused(suffix):
    rows = [HEADERS] + [ROW] * 11
    data = xlsx_bytes({"热线月度统计": rows}) if suffix == "xlsx" else csv_bytes(rows)
    message = refused(data, f"热线月度统计.{suffix}", limits=Limits(max_rows=10))
    assert message == "〔热线月度统计〕超过每表 10 行的上限，请按月份或地区拆分后分批上传"


# ---------------------------------------------------------------- which family and sheet


def test_sheets_are_found_by_title_or_by_headers_and_others_are_ignored():
    services = load_families()["services"]
    item = [c.header for c in services.sheet("service_item").columns]
    data = xlsx_bytes({"Sheet1": [item, ["SX0001"] * len(item)], "说明": [["随便写点什么"]]})
    parsed = read_upload(data, "a.xlsx")
    assert parsed.family == "services" and list(parsed.sheets) == ["service_item"]
    assert "〔说明〕未识别为任何报送表（表名和表头都不符），已忽略" in [str(w) for w in parsed.warnings]


def test_a_file_mixing_two_families_is_refused():
    payment = [c.header for c in load_families()["spending"].sheet("payment").columns]
    data = xlsx_bytes({"热线月度统计": [HEADERS, ROW], "支付明细": [payment, ["2026-10"] * len(payment)]})
    assert "一个文件只能报送一类数据，本文件包含：12345 热线、预算与支付" in refused(data, "a.xlsx")


def test_a_file_with_no_known_sheet_lists_what_is_expected():
    message = refused(xlsx_bytes({"Sheet1": [["甲", "乙"], [1, 2]]}), "a.xlsx", family="hotline")
    assert "文件中没有可识别的报送表，应为：〔热线月度统计〕" in message


def test_the_family_argument_restricts_the_sheets_considered():
    message = refused(csv_bytes([HEADERS, ROW]), "a.csv", family="services")
    assert message.startswith("文件内容是〔热线月度统计〕（12345 热线）的数据，不属于「政务服务事项与月度统计」")


def test_the_sheet_scan_counts_rows_holding_values_and_stops_past_the_limit():
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("热线月度统计")
    for r, row in enumerate([HEADERS, ROW, ROW]):
        ws.write_row(r, 0, row)
    ws.set_row(3, 30)  # a formatted empty row: a <row> element without values
    ws.write_row(4, 0, ROW)
    wb.close()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as zf:
        assert xlsx.scan_member(zf, "xl/worksheets/sheet1.xml", sheet=True).rows == 4
        over = xlsx.scan_member(zf, "xl/worksheets/sheet1.xml", sheet=True, max_rows=2)
    assert over.over
    message = refused(xlsx_bytes({"热线月度统计": [HEADERS] + [ROW] * 30}), "a.xlsx", limits=Limits(max_rows=10))
    assert message == "〔热线月度统计〕超过每表 10 行的上限，请按月份或地区拆分后分批上传"
