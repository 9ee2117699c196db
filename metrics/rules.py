"""Project-rule alerts (indicators.md section C), each naming the policy clause it enforces."""

from __future__ import annotations

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
    "rule_id", "rule_name", "clause", "consequence", "project_id", "project_name", "owner_unit", "owner_level",
    "county_code", "county_name", "dept_code", "tier", "approved_budget", "paid_wan", "days_over", "amount_wan",
    "detail",
]


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    clause: str
    consequence: str


@dataclass(frozen=True)
class RuleConfig:
    thresholds: dict
    rules: dict[str, Rule]


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> RuleConfig:
    """The rule declarations and thresholds from ``rules.toml``."""
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    rules = {r["id"]: Rule(**r) for r in raw["rule"]}
    needed = {"not_started_months", "trial_months", "self_eval_from_months", "self_eval_to_months",
              "split_thresholds_wan", "split_margin", "split_similarity"}
    missing = needed - set(raw.get("thresholds", {}))
    if missing:
        raise ValueError(f"预警规则配置缺少阈值：{sorted(missing)}")
    return RuleConfig(thresholds=raw["thresholds"], rules=rules)


def project_alerts(region: str, month, *, scope: Scope, rules: list[str] | None = None,
                   config: RuleConfig | None = None) -> pd.DataFrame:
    """Every rule breach of the visible projects in ``region`` at the end of ``month``.

    Columns: rule id, name and clause, the project and its unit, days over the rule's
    deadline (where the rule has one), the amount involved (万元) and a Chinese detail.
    """
    scope = require(scope)
    get_region(region, scope=scope)
    if config is None:  # the configured rules: memoised per data version (pages ask again and again)
        df = _configured_alerts(region, parse_month(month), scope)
    else:
        df = _query_alerts(region, parse_month(month), scope, config)
    return df[df["rule_id"].isin(rules)].reset_index(drop=True) if rules else df


@memo(maxsize=256)
def _configured_alerts(region: str, month, scope: Scope) -> pd.DataFrame:
    return _query_alerts(region, month, scope, load_rules())


def _query_alerts(region: str, month, scope: Scope, cfg: RuleConfig) -> pd.DataFrame:
    t = cfg.thresholds
    as_of = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
    params = {
        "region": region,
        "as_of": as_of,
        "not_started_months": int(t["not_started_months"]),
        "trial_months": int(t["trial_months"]),
        "self_eval_from_months": int(t["self_eval_from_months"]),
        "self_eval_to_months": int(t["self_eval_to_months"]),
        "split_thresholds": [float(x) for x in t["split_thresholds_wan"]],
        "split_margin": float(t["split_margin"]),
        "split_similarity": float(t["split_similarity"]),
        **scope.params(),
    }
    df = db.query(named_sql("project_alerts.sql"), params)
    df = df[df["rule_id"].isin(set(cfg.rules))].copy()
    df["rule_name"] = df["rule_id"].map(lambda r: cfg.rules[r].name)
    df["clause"] = df["rule_id"].map(lambda r: cfg.rules[r].clause)
    df["consequence"] = df["rule_id"].map(lambda r: cfg.rules[r].consequence)
    df["days_over"] = df["days_over"].astype("Int64")
    return df[ALERT_COLUMNS].reset_index(drop=True)


def alert_summary(alerts: pd.DataFrame) -> pd.DataFrame:
    """Alerts counted per rule, in the order of ``rules.toml``."""
    cfg = load_rules()
    counts = alerts.groupby("rule_id").size()
    return pd.DataFrame(
        [{"rule_id": r.id, "rule_name": r.name, "clause": r.clause, "count": int(counts.get(r.id, 0))}
         for r in cfg.rules.values()]
    )
