"""Turning raw cells into typed columns, vectorised, before the schema checks.

A clerk's cells come as Excel values (numbers, dates, booleans) or text typed in any
way: full-width digits, 「1,234」, 「2026年10月」, 202610, an Excel date serial, 是/否,
「—」. Each column type has one parser; it returns the typed values, the cells that
could not be read (reported with the raw value) and the blank cells. Blank cells and
the dashes 「—」「-」「/」 follow the column's ``blank`` rule: missing or zero.
Frames that are already typed (the demo generator, a 填报 grid) take fast paths.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from data.intake.spec import Column

DASHES = frozenset({"-", "—", "——", "–", "--", "−", "/", "\\"})
TRUE = frozenset({"是", "Y", "YES", "1", "TRUE", "T", "√", "✓", "✔"})
FALSE = frozenset({"否", "N", "NO", "0", "FALSE", "F", "×", "✗", "✘"})
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
DATE_DTYPE = "datetime64[us]"
_SERIAL = (25569, 73415)  # Excel day serials of 1970-01-01 … 2100-12-31 (a bare 2026 is not a date)
_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
_YM = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?$"
_YM_COMPACT = r"^(\d{4})(\d{2})$"
_YMD = r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
_YMD_COMPACT = r"^(\d{4})(\d{2})(\d{2})$"


@dataclass
class Parsed:
    values: pd.Series  # typed: Int64 / Float64 / boolean / datetime64[us] / object (text, codes)
    bad: pd.Series  # bool: a non-blank cell that could not be read as the column's type
    blank: pd.Series  # bool: blank or a dash (already filled when the rule is "zero")


def cell_text(value: object) -> str:
    """A raw cell as quoted back to the clerk (「实为 …」)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return "（空）"
    if isinstance(value, (datetime, pd.Timestamp)):
        return value.strftime("%Y-%m-%d") if value.time() == time() else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    return str(value).strip()


def parse(raw: pd.Series, col: Column, names: dict[str, str] | None = None) -> Parsed:
    """Parse one column; ``names`` maps names to codes when the column accepts names."""
    parser = _PARSERS[col.type]
    if col.type == "code":
        out = parser(raw, names if col.accept_names else None)
    elif col.type in ("int", "decimal", "float"):
        out = parser(raw, col)
    else:
        out = parser(raw)
    if col.blank == "zero" and out.blank.any():
        fill = False if col.type == "bool" else 0
        out.values = out.values.mask(out.blank, fill)
    return out


# ---------------------------------------------------------------- shared steps


def _kinds(raw: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(is missing, is a string, the strings NFKC-normalised and stripped) of an object column."""
    missing = raw.isna()
    if raw.dtype == object:
        is_str = raw.map(type).eq(str) & ~missing
    else:
        is_str = pd.Series(pd.api.types.is_string_dtype(raw.dtype), index=raw.index) & ~missing
    strs = raw[is_str].astype(str)
    # normalise each distinct string once (a column repeats a few codes, months and names)
    codes, uniques = pd.factorize(strs)
    clean = pd.Series(uniques, dtype=object).str.normalize("NFKC").str.strip().to_numpy(dtype=object)
    text = pd.Series(clean[codes] if len(codes) else [], index=strs.index, dtype=object)
    return missing, is_str, text


def _map_uniques(raw: pd.Series, fn) -> pd.Series:
    """``fn`` applied once per distinct value (columns repeat a few codes many times)."""
    uniques = pd.unique(raw.dropna().astype(object))
    mapping = {u: fn(u) for u in uniques}
    return raw.astype(object).map(mapping).astype(object).where(raw.notna(), None)


def _blank_text(text: pd.Series) -> pd.Series:
    return text.eq("") | text.isin(DASHES)


def _empty(raw: pd.Series, dtype: str) -> Parsed:
    no = pd.Series(False, index=raw.index)
    return Parsed(pd.Series(pd.array([None] * len(raw), dtype=dtype), index=raw.index), no, no.copy())


# ---------------------------------------------------------------- numbers


def _numbers(raw: pd.Series, col: Column) -> Parsed:
    if pd.api.types.is_bool_dtype(raw.dtype):
        return _typed_numbers(pd.Series(np.nan, index=raw.index), raw, col, bad=pd.Series(True, index=raw.index))
    if pd.api.types.is_integer_dtype(raw.dtype):  # already whole numbers: nothing to round
        values = raw.astype("Int64") if col.type == "int" else raw.astype("Float64")
        no = pd.Series(False, index=raw.index)
        return Parsed(values, no, values.isna())
    if pd.api.types.is_numeric_dtype(raw.dtype):
        return _typed_numbers(raw.astype("Float64"), raw, col)
    missing, is_str, text = _kinds(raw)
    other = ~missing & ~is_str
    values = pd.Series(np.nan, index=raw.index, dtype="float64")
    if other.any():
        objs = raw[other]
        usable = ~objs.map(type).isin([bool, np.bool_, datetime, pd.Timestamp, date])
        values[objs.index[usable]] = pd.to_numeric(objs[usable], errors="coerce")
    blank = missing.copy()
    if len(text):
        blank_t = _blank_text(text)
        blank[text.index[blank_t]] = True
        t = text[~blank_t]
        t = t.str.replace(r"[\s\u3000]+", "", regex=True)
        thousands = t.str.match(_THOUSANDS)
        t = t.where(~thousands, t.str.replace(",", "", regex=False))
        if col.unit == "%":
            t = t.str.removesuffix("%")
        values[t.index] = pd.to_numeric(t, errors="coerce")
    values = values.where(np.isfinite(values))
    bad = values.isna() & ~blank
    return _typed_numbers(values.astype("Float64"), raw, col, bad=bad, blank=blank)


def _typed_numbers(values: pd.Series, raw: pd.Series, col: Column, bad: pd.Series | None = None,
                   blank: pd.Series | None = None) -> Parsed:
    if blank is None:
        blank = values.isna()
    if bad is None:
        bad = pd.Series(False, index=raw.index)
    if col.type == "int":
        wrong = ((values - values.round()).abs().gt(0) | values.abs().gt(2**53)).fillna(False).astype(bool)
        bad = bad | wrong
        values = values.mask(wrong).round().astype("Int64")
    elif col.type == "decimal":
        cents = values * 100
        off = (cents - cents.round()).abs().gt(1e-6 * cents.abs().clip(lower=1)).fillna(False).astype(bool)
        bad = bad | off
        values = values.mask(off).round(2)
    return Parsed(values, bad.astype(bool), blank.astype(bool))


# ---------------------------------------------------------------- months, years and dates


def _from_parts(y: pd.Series, m: pd.Series, d: pd.Series | None = None) -> pd.Series:
    """Timestamps from year/month(/day) strings; invalid combinations give NaT."""
    frame = pd.DataFrame({"year": pd.to_numeric(y, errors="coerce"), "month": pd.to_numeric(m, errors="coerce"),
                          "day": 1 if d is None else pd.to_numeric(d, errors="coerce")})
    ok = frame["year"].between(1900, 2999) & frame["month"].between(1, 12) & frame["day"].between(1, 31)
    out = pd.Series(pd.NaT, index=y.index, dtype=DATE_DTYPE)
    if ok.any():
        out[ok] = pd.to_datetime(frame[ok], errors="coerce").astype(DATE_DTYPE)
    return out


def _datetimes(raw: pd.Series, *, month: bool) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(timestamps, bad, blank) for a month or date column."""
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        values = raw.astype(DATE_DTYPE)
        return values, pd.Series(False, index=raw.index), values.isna()
    missing, is_str, text = _kinds(raw)
    values = pd.Series(pd.NaT, index=raw.index, dtype=DATE_DTYPE)
    other = ~missing & ~is_str
    if other.any():
        objs = raw[other]
        kinds = objs.map(type)
        stamp = kinds.isin([datetime, pd.Timestamp, date])
        if stamp.any():
            values[objs.index[stamp]] = pd.to_datetime(objs[stamp].map(_as_datetime)).astype(DATE_DTYPE)
        number = kinds.isin([int, float, np.int64, np.float64, np.int32])
        if number.any():
            values[objs.index[number]] = _number_dates(pd.to_numeric(objs[number], errors="coerce"), month=month)
    blank = missing.copy()
    if len(text):
        blank_t = _blank_text(text)
        blank[text.index[blank_t]] = True
        t = text[~blank_t]
        if month:
            for pattern in (_YM, _YM_COMPACT):
                parts = t.str.extract(pattern)
                hit = parts[0].notna()
                values[t.index[hit]] = _from_parts(parts.loc[hit, 0], parts.loc[hit, 1])
        for pattern in (_YMD, _YMD_COMPACT):
            parts = t.str.extract(pattern)
            hit = parts[0].notna() & values[t.index].isna().to_numpy()
            values[t.index[hit]] = _from_parts(parts.loc[hit, 0], parts.loc[hit, 1], parts.loc[hit, 2])
    bad = values.isna() & ~blank
    return values, bad, blank


def _as_datetime(v: object) -> object:
    """A date cell as midnight of that day; anything else unchanged."""
    return datetime.combine(v, time()) if isinstance(v, date) and not isinstance(v, datetime) else v


def _number_dates(n: pd.Series, *, month: bool) -> pd.Series:
    """Numbers as dates: 202610 (a month), 20261015 (a date) or an Excel day serial."""
    out = pd.Series(pd.NaT, index=n.index, dtype=DATE_DTYPE)
    whole = n.notna() & (n == n.round())
    ym = whole & n.between(190001, 299912) & month
    if ym.any():
        v = n[ym].astype("int64")
        out[ym] = _from_parts(v // 100, v % 100)
    ymd = whole & n.between(19000101, 29991231)
    if ymd.any():
        v = n[ymd].astype("int64")
        out[ymd] = _from_parts(v // 10000, v // 100 % 100, v % 100)
    serial = n.between(*_SERIAL) & out.isna() & ~ym
    if serial.any():
        out[serial] = (EXCEL_EPOCH + pd.to_timedelta(n[serial].round(6), unit="D")).astype(DATE_DTYPE)
    return out


def _month(raw: pd.Series) -> Parsed:
    values, bad, blank = _datetimes(raw, month=True)
    off = values.notna() & ((values.dt.day != 1) | (values.dt.normalize() != values))
    if off.any():  # a date in a month column stands for its month
        values = values.dt.to_period("M").dt.to_timestamp().astype(DATE_DTYPE)
    return Parsed(values, bad, blank)


def _date(raw: pd.Series) -> Parsed:
    values, bad, blank = _datetimes(raw, month=False)
    return Parsed(values.dt.normalize(), bad, blank)


def _year(raw: pd.Series) -> Parsed:
    if raw.dtype == object or pd.api.types.is_string_dtype(raw.dtype):
        raw = _map_uniques(raw, lambda v: v.strip().removesuffix("年") if isinstance(v, str) else v)
    if pd.api.types.is_bool_dtype(raw.dtype):
        raw = raw.astype(object)
    out = _numbers(raw, Column("year", "", "int"))
    wrong = out.values.notna() & ~out.values.between(1900, 2999)
    if wrong.any():
        out.bad = out.bad | wrong.fillna(False).astype(bool)
        out.values = out.values.mask(wrong)
    return out


# ---------------------------------------------------------------- booleans, text and codes


def _bool(raw: pd.Series) -> Parsed:
    if pd.api.types.is_bool_dtype(raw.dtype):
        values = raw.astype("boolean")
        return Parsed(values, pd.Series(False, index=raw.index), values.isna())
    if pd.api.types.is_numeric_dtype(raw.dtype):
        values = raw.astype("Float64")
        ok = (values.eq(0) | values.eq(1)).fillna(True).astype(bool)
        return Parsed(values.where(ok).eq(1).astype("boolean").mask(values.isna() | ~ok),
                      ~ok.astype(bool), values.isna())
    missing = raw.isna()
    key = _map_uniques(raw, _bool_key)
    blank = missing | key.isin(["", *DASHES])
    values = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    values[key.isin(TRUE)] = True
    values[key.isin(FALSE)] = False
    bad = values.isna() & ~blank
    return Parsed(values, bad, blank)


def _bool_key(v: object) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float, np.integer, np.floating)):
        return {0: "0", 1: "1"}.get(int(v), "?") if float(v).is_integer() else "?"
    return unicodedata.normalize("NFKC", str(v)).strip().upper()


def _text(raw: pd.Series) -> Parsed:
    """Free text keeps its full-width punctuation (names are written that way)."""
    missing = raw.isna()
    values = _map_uniques(raw, _text_value)
    blank = missing | values.isna() | values.isin(["", *DASHES])
    values = values.mask(blank, None)
    return Parsed(values, pd.Series(False, index=raw.index), blank)


def _text_value(v: object) -> str:
    if isinstance(v, str):
        return v.strip()
    return cell_text(v)


def _code(raw: pd.Series, names: dict[str, str] | None) -> Parsed:
    """Codes: NFKC, the leading token (「360102 东湖区」 → 360102), numbers without 「.0」.

    The result is categorical: a code column repeats a few values, and set lookups on
    the categories are what the checks do."""
    no = pd.Series(False, index=raw.index)
    if isinstance(raw.dtype, pd.CategoricalDtype):
        cats = raw.cat.categories
        if pd.api.types.is_string_dtype(cats.dtype) and not names and (cats == cats.str.strip()).all():
            return Parsed(raw, no, raw.isna())
    elif pd.api.types.is_integer_dtype(raw.dtype):
        raw = raw.astype("Int64").astype(object)
    elif pd.api.types.is_float_dtype(raw.dtype) or pd.api.types.is_bool_dtype(raw.dtype):
        raw = raw.astype(object)
    cat = raw.astype("category")
    old = list(cat.cat.categories)
    new = [_code_value(c, names) for c in old]
    if len(set(new)) == len(new):
        values = cat.cat.rename_categories(new)
    else:  # two spellings of one code (「360102」 and 「360102 东湖区」)
        values = pd.Series(np.array(new, dtype=object)[cat.cat.codes.to_numpy()], index=raw.index)
        values = values.where(cat.notna(), None).astype("category")
    blanks = [c for c in values.cat.categories if c == "" or c in DASHES]
    if blanks:
        values = values.cat.remove_categories(blanks)
    return Parsed(values, no, values.isna())


def _code_value(v: object, names: dict[str, str] | None) -> str:
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = unicodedata.normalize("NFKC", str(v)).strip()
    if names and text in names:
        return names[text]
    return text.split()[0] if text else ""


_PARSERS: dict[str, Callable[..., Parsed]] = {
    "int": _numbers, "decimal": _numbers, "float": _numbers,
    "month": _month, "date": _date, "year": _year,
    "bool": _bool, "text": _text, "code": _code,
}
