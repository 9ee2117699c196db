"""Project-rule alerts (indicators.md section C), each naming the policy clause it enforces.

A rule is a breach (severity 预警: the card KPIs, the rule counts, the wall and the briefing
count it) or a reminder (提示: due soon, e.g. 绩效自评 inside its 6–12 month window), which
only the 项目 page lists, tagged 即将到期. The month thresholds are read from the queried
file's ``rule_threshold`` row (:mod:`metrics.rule_thresholds`), as the card KPIs read them.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from data import db
from data.scope import Scope, require
from metrics.cache import memo
from metrics.compile import named_sql
from metrics.periods import parse_month
from metrics.regions import get_region

RULES_PATH = Path(__file__).resolve().parent / "rules.toml"
ALERT_COLUMNS = [
    "rule_id", "rule_name", "severity", "clause", "consequence", "project_id", "project_name", "owner_unit",
    "owner_level", "county_code", "county_name", "dept_code", "tier", "approved_budget", "paid_wan", "days_over",
    "amount_wan", "detail",
]
BREACH, REMINDER = "预警", "提示"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    clause: str
    consequence: str
    severity: str = BREACH


@dataclass(frozen=True)
class RuleConfig:
    thresholds: dict
    rules: dict[str, Rule]


_THRESHOLD_SLOT = re.compile(r"\{(\w+_months)\}")


def worded(text: str, thresholds: dict) -> str:
    """``text`` with each ``{…_months}`` slot replaced by the configured threshold: a name such
    as 「试运行满{trial_months}个月待终验」 says the months its count uses (rules.toml is the one
    place they are set). An unknown slot is a configuration error."""
    def fill(m: re.Match) -> str:
        if m.group(1) not in thresholds:
            raise ValueError(f"文字中的阈值「{m.group(1)}」未在 rules.toml 的 [thresholds] 中配置：{text}")
        return str(int(thresholds[m.group(1)]))

    return _THRESHOLD_SLOT.sub(fill, text)


@lru_cache(maxsize=4)
def load_rules(path: Path | None = None) -> RuleConfig:
    """The rule declarations and thresholds from ``rules.toml`` (``path``: another file)."""
    raw = tomllib.loads(Path(path or RULES_PATH).read_text(encoding="utf-8"))
    thresholds = raw.get("thresholds", {})
    rules = {r["id"]: Rule(**{**r, "name": worded(r["name"], thresholds)}) for r in raw["rule"]}
    odd = sorted(r.id for r in rules.values() if r.severity not in (BREACH, REMINDER))
    if odd:
        raise ValueError(f"预警规则的 severity 只能是「{BREACH}」或「{REMINDER}」：{odd}")
    needed = {"not_started_months", "trial_months", "self_eval_from_months", "self_eval_to_months",
              "split_thresholds_wan", "split_margin", "split_similarity"}
    missing = needed - set(raw.get("thresholds", {}))
    if missing:
        raise ValueError(f"预警规则配置缺少阈值：{sorted(missing)}")
    return RuleConfig(thresholds=raw["thresholds"], rules=rules)


def project_alerts(region: str, month, *, scope: Scope, rules: list[str] | None = None,
                   reminders: bool = False) -> pd.DataFrame:
    """Every rule breach of the visible projects in ``region`` at the end of ``month``
    (with ``reminders``, the 提示 rows too: projects due soon).

    Columns: rule id, name, severity and clause, the project and its unit, days over the
    rule's deadline (where the rule has one), the amount involved (万元) and a Chinese detail.
    """
    scope = require(scope)
    get_region(region, scope=scope)
    # memoised per data version (pages ask again and again)
    df = _configured_alerts(region, parse_month(month), scope)
    if not reminders:
        df = breaches(df)
    return df[df["rule_id"].isin(rules)].reset_index(drop=True) if rules else df


def breaches(alerts: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``alerts`` that are breaches (severity 预警), not reminders."""
    return alerts[alerts["severity"] == BREACH].reset_index(drop=True)


@memo(maxsize=256)
def _configured_alerts(region: str, month, scope: Scope) -> pd.DataFrame:
    cfg = load_rules()
    t = cfg.thresholds
    as_of = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
    params = {
        "region": region,
        "as_of": as_of,
        "split_thresholds": [float(x) for x in t["split_thresholds_wan"]],
        "split_margin": float(t["split_margin"]),
        "split_similarity": float(t["split_similarity"]),
        **scope.params(),
    }
    df = db.query(named_sql("project_alerts.sql"), params)
    df = df[df["rule_id"].isin(set(cfg.rules))].copy()
    declared = cfg.rules
    df["rule_name"] = df["rule_id"].map(lambda r: declared[r].name)
    df["severity"] = df["rule_id"].map(lambda r: declared[r].severity)
    df["clause"] = df["rule_id"].map(lambda r: declared[r].clause)
    df["consequence"] = df["rule_id"].map(lambda r: declared[r].consequence)
    df["days_over"] = df["days_over"].astype("Int64")
    return df[ALERT_COLUMNS].reset_index(drop=True)


def alert_summary(alerts: pd.DataFrame, *, reminders: bool = False) -> pd.DataFrame:
    """Alerts counted per breach rule (with ``reminders``, per reminder rule too), in the
    order of ``rules.toml``."""
    cfg = load_rules()
    counts = alerts.groupby("rule_id").size()
    return pd.DataFrame(
        [{"rule_id": r.id, "rule_name": r.name, "severity": r.severity, "clause": r.clause,
          "count": int(counts.get(r.id, 0))}
         for r in cfg.rules.values() if reminders or r.severity == BREACH],
        columns=["rule_id", "rule_name", "severity", "clause", "count"],
    )
