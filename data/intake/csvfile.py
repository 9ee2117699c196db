"""Reading an uploaded CSV: encoding detection and streamed rows.

Excel on a Chinese Windows saves CSV in GBK, newer versions offer UTF-8 with a BOM, and
「Unicode 文本」 is UTF-16 with tabs. The encoding is decided by strict decoding (UTF-8
first, since GB18030 would accept most UTF-8 bytes too) in a streaming pass, so a large
file is never held twice. Row numbers are line numbers (the header is line 1 in the
template); a quoted cell spanning lines shifts the numbers of the rows after it.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

import pandas as pd

from data.intake.errors import IntakeError

ENCODINGS = ("utf-8-sig", "gb18030")
_CHUNK = 1 << 20
_HEAD_BYTES = 64 * 1024


def detect_encoding(data: bytes) -> str:
    """The first encoding that decodes the whole file strictly."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    for enc in ENCODINGS:
        decoder = codecs.getincrementaldecoder(enc)(errors="strict")
        try:
            for start in range(0, len(data), _CHUNK):
                decoder.decode(data[start:start + _CHUNK], final=False)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return enc
    raise IntakeError("无法识别 CSV 文件的编码，请另存为「CSV UTF-8（逗号分隔）」或 GBK 编码的 CSV")


def _head_text(data: bytes, encoding: str) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    return decoder.decode(data[:_HEAD_BYTES], final=len(data) <= _HEAD_BYTES)


def delimiter(data: bytes, encoding: str) -> str:
    """Comma, unless the first non-empty line has tabs and no commas (Excel's 文本文件)."""
    for line in _head_text(data, encoding).splitlines():
        if line.strip():
            return "\t" if "\t" in line and "," not in line else ","
    return ","


def head_rows(data: bytes, encoding: str, sep: str, n: int) -> list[tuple[int, tuple]]:
    """The non-empty records among the first ``n`` lines, as (line number, values)."""
    lines = _head_text(data, encoding).splitlines()[:n]
    out = []
    try:
        for line_no, values in enumerate(csv.reader(lines, delimiter=sep), start=1):
            if any(v.strip() for v in values):
                out.append((line_no, tuple(values)))
    except csv.Error as exc:
        raise IntakeError(f"CSV 文件格式有误（{exc}），请检查引号是否成对") from exc
    return out


def body_chunks(data: bytes, encoding: str, sep: str, header_line: int, positions: list[int],
                chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Raw string cells of the columns at ``positions`` for every line after the header,
    chunk by chunk (index = line number; blank lines included, the caller drops them)."""
    if not positions:
        return
    width = max(positions) + 1
    reader = pd.read_csv(
        io.BytesIO(data), encoding=encoding, sep=sep, header=None, skiprows=header_line,
        names=range(width), usecols=positions, dtype=object, keep_default_na=False,
        na_filter=False, skip_blank_lines=False, chunksize=chunk_rows, engine="c",
    )
    line = header_line + 1
    try:
        for chunk in reader:
            chunk.index = pd.RangeIndex(line, line + len(chunk))
            line += len(chunk)
            yield chunk
    except (pd.errors.ParserError, ValueError, UnicodeDecodeError, csv.Error) as exc:
        raise IntakeError(f"CSV 文件第 {line} 行附近格式有误，请检查引号是否成对、是否有多余的分隔符") from exc
    finally:
        reader.close()
