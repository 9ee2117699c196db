"""Code lists and the uploader's area, read from the current database version.

Every list is small (a province's regions, departments, items, projects, stages and
tasks), so each is read once per validation, from ``sql/codes_*.sql``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from data.db import bind, read_sql
from data.scope import Scope

SQL_DIR = Path(__file__).resolve().parent / "sql"

# the province of a code's first two digits, to say where a stray code belongs
PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区", "21": "辽宁省",
    "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省", "33": "浙江省", "34": "安徽省",
    "35": "福建省", "36": "江西省", "37": "山东省", "41": "河南省", "42": "湖北省", "43": "湖南省",
    "44": "广东省", "45": "广西壮族自治区", "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省",
    "53": "云南省", "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}
LEVELS = {"province": "省级", "city": "设区市", "county": "区县"}


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> pd.DataFrame:
    """One ``sql/<name>.sql`` file with bound parameters."""
    sql = read_sql(SQL_DIR / f"{name}.sql")
    return con.execute(sql, bind(sql, params)).df()


@dataclass
class CodeLists:
    regions: pd.DataFrame  # index code: name, level, parent_code
    descendants: dict[str, set[str]]  # ancestor → itself and every region below it
    departments: pd.DataFrame  # index code: name
    items: pd.DataFrame  # index code: name, dept_code
    projects: pd.DataFrame  # index code: name, county_code, dept_code
    stages: pd.DataFrame  # index code: name, seq
    tasks: pd.DataFrame  # index code (int): name, region_code, status, progress, progress_note, evidence_url
    latest: dict[str, date | None]  # monthly table (and "calendar") → its latest month

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> CodeLists:
        closure = run(con, "codes_closure")
        descendants: dict[str, set[str]] = {}
        for a, d in zip(closure["ancestor_code"], closure["descendant_code"], strict=True):
            descendants.setdefault(a, {a}).add(d)
        latest = run(con, "latest_months")
        return cls(
            regions=run(con, "codes_regions").set_index("code"),
            descendants=descendants,
            departments=run(con, "codes_departments").set_index("code"),
            items=run(con, "codes_service_items").set_index("code"),
            projects=run(con, "codes_projects").set_index("code"),
            stages=run(con, "codes_project_stages").set_index("code"),
            tasks=run(con, "codes_tasks").set_index("code"),
            latest={s: (None if pd.isna(m) else pd.Timestamp(m).date())
                    for s, m in zip(latest["sheet"], latest["latest"], strict=True)},
        )

    def name(self, code: str) -> str:
        """A region's name, or "" when unknown."""
        return str(self.regions["name"].get(code, ""))

    def below(self, codes) -> set[str]:
        out: set[str] = set()
        for c in codes:
            out |= self.descendants.get(c, {c} if c in self.regions.index else set())
        return out

    def counties(self, codes) -> set[str]:
        level = self.regions["level"]
        return {c for c in self.below(codes) if level.get(c) == "county"}

    def stray_county(self, code: str, province: str) -> str:
        """Why ``code`` is not a county of the province (「… 不属于本省」)."""
        prov_name = self.name(province)
        if code in self.regions.index:
            level = self.regions.at[code, "level"]
            return f"{code}（{self.name(code)}）是{LEVELS.get(level, level)}代码，应填写区县代码"
        if len(code) == 6 and code.isdigit() and code[:2] != province[:2]:
            where = PROVINCES.get(code[:2])
            return f"{code} 不属于本省（{prov_name}）" + (f"，是{where}的代码" if where else "")
        return f"{code} 不是{prov_name}的区县代码"


@dataclass
class Area:
    """Where the uploader may report (scope) and what this upload covers (region)."""

    province: str
    scope_regions: set[str]  # every region in the scope (any level)
    scope_counties: set[str]
    region: str | None  # the region the upload is for, when one was chosen
    region_regions: set[str]  # every region under it (the scope's when none was chosen)
    region_counties: set[str]  # the counties that must all report (complete sheets)
    departments: set[str] | None  # None: every department
    whole_province: bool  # the scope covers the province (registers may be changed)
    problems: list[str] = field(default_factory=list)

    @classmethod
    def resolve(cls, lists: CodeLists, scope: Scope, region: str | None) -> Area:
        roots = lists.regions.index[lists.regions["parent_code"].isna()].tolist()
        province = next((r for r in roots if set(scope.regions) & lists.below([r])), roots[0] if roots else "")
        problems = []
        unknown = [r for r in scope.regions if r not in lists.regions.index]
        if unknown:
            problems.append(f"您的报送范围含未知地区代码：{'、'.join(unknown)}")
        scope_regions = lists.below(scope.regions)
        scope_counties = lists.counties(scope.regions)
        region_regions, region_counties = scope_regions, scope_counties
        if region is not None:
            if region not in lists.regions.index:
                problems.append(f"报送地区 {region} 不是本省的地区代码")
            elif region not in scope_regions:
                problems.append(f"报送地区 {region}（{lists.name(region)}）不在您的报送范围内")
            region_regions = lists.below([region]) & scope_regions
            region_counties = lists.counties([region]) & scope_counties
        return cls(
            province=province, scope_regions=scope_regions, scope_counties=scope_counties, region=region,
            region_regions=region_regions, region_counties=region_counties,
            departments=None if scope.departments is None else set(scope.departments),
            whole_province=province in scope.regions, problems=problems,
        )
