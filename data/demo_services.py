"""Demo facts for public service, the 12345 hotline and data resources.

Regions and departments come in as DataFrames; every generator is vectorised numpy.
Random streams are keyed by (seed, component, month) so a chunked build gives the same
numbers as a one-shot build.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data.demo_reference import CROSS_PROVINCE, ITEM_TYPES, ITEMS, ONSITE_REQUIRED, SPRING_FESTIVAL, VOLUME

# stream ids for np.random.default_rng([seed, stream, ...])
S_COUNTY, S_ITEMS, S_PAIRS, S_MONTH, S_HOTLINE, S_DATA = 1, 2, 3, 4, 5, 6

# latent "readiness" of an item in a county, in logit units: value at the start of the
# range (t=0) and the yearly gain of a county with speed 1.
FLAG_LATENT = {
    "one_visit": (1.9, 0.62),
    "online": (1.3, 0.70),
    "zero": (0.1, 0.78),
    "full": (-0.6, 0.74),
    "mobile": (-0.4, 0.78),
}
NOT_ON_APPLICATION = {"高龄津贴发放", "耕地地力保护补贴发放", "计划生育家庭特别扶助金发放"}
# base month-of-year factor (October: the National Day week)
MONTH_FACTOR = np.array([0.97, 0.93, 1.08, 1.03, 1.0, 1.04, 1.0, 0.97, 1.03, 0.9, 1.03, 1.07])


def month_range(end_month: str, months: int) -> pd.DatetimeIndex:
    end = pd.Timestamp(f"{end_month}-01")
    return pd.date_range(end=end, periods=months, freq="MS")


def season_factor(months: pd.DatetimeIndex) -> np.ndarray:
    """Month-of-year pattern with the Spring Festival dip (and a pre-festival rush)."""
    f = MONTH_FACTOR[months.month - 1].copy()
    for k, m in enumerate(months):
        sf = SPRING_FESTIVAL.get(m.year, 2)
        if m.month == sf:
            f[k] *= 0.62
        elif m.month == sf - 1:
            f[k] *= 1.06
    return f


# ---------------------------------------------------------------- regions


def region_closure(regions: pd.DataFrame) -> pd.DataFrame:
    parent = dict(zip(regions["code"], regions["parent_code"], strict=True))
    rows = []
    for code in regions["code"]:
        node, depth = code, 0
        while node is not None and isinstance(node, str) and node in parent:
            rows.append((node, code, depth))
            node, depth = parent[node], depth + 1
    return pd.DataFrame(rows, columns=["ancestor_code", "descendant_code", "depth"])


@dataclass
class Counties:
    """The counties with their demo characteristics."""

    frame: pd.DataFrame  # code, name, city_code, urban, size, level, speed, kind

    @property
    def n(self) -> int:
        return len(self.frame)


def make_counties(regions: pd.DataFrame, seed: int) -> Counties:
    rng = np.random.default_rng([seed, S_COUNTY])
    c = regions[regions["level"] == "county"].reset_index(drop=True)
    n = len(c)
    urban = c["name"].str.endswith("区").to_numpy()
    size = rng.lognormal(0.0, 0.45, n) * np.where(urban, 1.7, 1.0)
    size = size / np.median(size)
    # 15% laggards, ~8% leaders, the rest ordinary
    order = rng.permutation(n)
    kind = np.full(n, "常规", dtype=object)
    n_lag, n_lead = max(1, round(0.15 * n)), max(1, round(0.08 * n))
    kind[order[:n_lag]] = "滞后"
    kind[order[n_lag:n_lag + n_lead]] = "领先"
    level = rng.normal(0.0, 0.45, n) + np.select([kind == "滞后", kind == "领先"], [-1.2, 0.6], 0.0)
    speed = rng.lognormal(0.0, 0.2, n) * np.select([kind == "滞后", kind == "领先"], [0.6, 1.2], 1.0)
    frame = pd.DataFrame(
        {
            "code": c["code"], "name": c["name"], "city_code": c["parent_code"], "urban": urban,
            "size": size, "level": level, "speed": speed, "kind": kind,
        }
    )
    return Counties(frame)


# ---------------------------------------------------------------- service items


def make_items(seed: int, scale: int, item_limit: int | None = None) -> pd.DataFrame:
    """The service item catalogue: the real-sounding base list, repeated with a suffix
    （A2）,（A3）… at benchmark scales. ``item_limit`` (tests only) keeps an even subset."""
    rng = np.random.default_rng([seed, S_ITEMS])
    base = pd.DataFrame(ITEMS, columns=["dept_code", "name", "t", "a", "vol"])
    if item_limit is not None and item_limit < len(base):
        keep = np.unique(np.linspace(0, len(base) - 1, item_limit).round().astype(int))
        base = base.iloc[keep].reset_index(drop=True)
    copies = []
    for k in range(scale):
        b = base.copy()
        if k:
            b["name"] = b["name"] + f"（A{k + 1}）"
        copies.append(b)
    items = pd.concat(copies, ignore_index=True)
    n = len(items)
    items.insert(0, "item_code", [f"SX{k + 1:04d}" for k in range(n)])
    items["item_type"] = items["t"].map(ITEM_TYPES)
    items["audience"] = np.where(items["a"] == "人", "个人", "法人")
    base_name = items["name"].str.replace(r"（A\d+）$", "", regex=True)
    items["on_application"] = ~base_name.isin(NOT_ON_APPLICATION)
    typical = items["item_type"].map(
        {"行政许可": 20, "行政确认": 20, "行政给付": 30, "公共服务": 15, "其他行政权力": 10}
    )
    statutory = np.clip(np.round(typical * rng.lognormal(0, 0.45, n)), 5, 60).astype(int)
    promised = np.clip(np.round(statutory * rng.uniform(0.3, 0.7, n)), 1, statutory).astype(int)
    items["statutory_days"] = statutory
    items["promised_days"] = promised
    items["volume"] = items["vol"].map(VOLUME) * rng.lognormal(0, 0.35, n)
    # some items are inherently harder to move online (site inspections, originals)
    hard = items["item_type"].eq("行政许可") & items["a"].eq("法")
    items["ease"] = rng.normal(0.0, 0.9, n) - np.where(hard, 0.5, 0.0) + np.where(items["a"] == "人", 0.3, 0.0)
    items["one_thing"] = base_name.str.contains("一件事") | base_name.eq("水电气网联合报装")
    items["cross_province"] = base_name.isin(CROSS_PROVINCE)
    items["onsite_required"] = base_name.isin(ONSITE_REQUIRED)
    items["is_licence"] = items["item_type"].eq("行政许可")
    return items.drop(columns=["t", "a", "vol"])


@dataclass
class Panel:
    """Static (county × item) latents shared by every month."""

    thresh: np.ndarray  # (c, i) logistic threshold
    vol: np.ndarray  # (c, i) expected monthly applications before season/trend


def make_panel(counties: Counties, items: pd.DataFrame, seed: int) -> Panel:
    rng = np.random.default_rng([seed, S_PAIRS])
    shape = (counties.n, len(items))
    u = rng.uniform(1e-6, 1 - 1e-6, shape)
    thresh = np.log(u / (1 - u)) * 0.8
    vol = (
        counties.frame["size"].to_numpy()[:, None]
        * items["volume"].to_numpy()[None, :]
        * rng.lognormal(0, 0.3, shape)
    )
    return Panel(thresh.astype(np.float32), vol.astype(np.float32))


def flags_at(counties: Counties, items: pd.DataFrame, panel: Panel, t_years: float) -> dict[str, np.ndarray]:
    """The item-availability flags (c, i) at t_years after the start of the range."""
    level = counties.frame["level"].to_numpy()[:, None]
    speed = counties.frame["speed"].to_numpy()[:, None]
    ease = items["ease"].to_numpy()[None, :]
    personal = (items["audience"] == "个人").to_numpy()[None, :]
    onsite = items["onsite_required"].to_numpy()[None, :]
    out = {}
    for name, (a0, gain) in FLAG_LATENT.items():
        score = a0 + level + ease + gain * speed * t_years
        if name == "mobile":
            score = score - np.where(personal, 0.0, 1.2)
        out[name] = score > panel.thresh
    # an item the law makes the applicant attend in person is never fully online nor visit-free
    out["full"] &= ~onsite
    # nest the flags: full online ⇒ no visit ⇒ at most one visit; mobile ⇒ online
    out["online"] |= out["full"]
    out["zero"] |= out["full"]
    out["one_visit"] |= out["zero"] | out["online"]
    out["zero"] &= ~onsite
    out["mobile"] &= out["online"]
    return out


def service_chunks(
    counties: Counties,
    items: pd.DataFrame,
    panel: Panel,
    months: pd.DatetimeIndex,
    seed: int,
    rows_per_chunk: int = 1_500_000,
) -> Iterator[pd.DataFrame]:
    """service_monthly as DataFrames of whole months, in table column order."""
    nc, ni = counties.n, len(items)
    per_month = nc * ni
    step = max(1, rows_per_chunk // per_month)
    season = season_factor(months)
    total_years = max(len(months) - 1, 1) / 12.0
    kind = counties.frame["kind"].to_numpy()
    lag = (kind == "滞后")[:, None]
    lead = (kind == "领先")[:, None]
    licence = items["is_licence"].to_numpy()[None, :]
    county_cat = pd.Categorical(counties.frame["code"])
    item_cat = pd.Categorical(items["item_code"])
    dept_cat = pd.Categorical(items["dept_code"])
    county_idx = np.repeat(np.arange(nc, dtype=np.int32), ni)
    item_idx = np.tile(np.arange(ni, dtype=np.int32), nc)
    for start in range(0, len(months), step):
        frames = []
        for k in range(start, min(start + step, len(months))):
            frames.append(
                _one_month(k, season[k], total_years, counties, items, panel, seed, lag, lead, licence)
            )
        cols = {key: np.concatenate([f[key] for f in frames]) for key in frames[0]}
        m = len(frames)
        month_col = np.repeat(months[start:start + m].values.astype("datetime64[D]"), per_month)
        df = pd.DataFrame(
            {
                "month": month_col,
                "county_code": pd.Categorical.from_codes(np.tile(county_idx, m), dtype=county_cat.dtype),
                "dept_code": pd.Categorical.from_codes(
                    dept_cat.codes[np.tile(item_idx, m)], dtype=dept_cat.dtype
                ),
                "item_code": pd.Categorical.from_codes(np.tile(item_idx, m), dtype=item_cat.dtype),
                **cols,
            }
        )
        yield df


def _one_month(k, season, total_years, counties, items, panel, seed, lag, lead, licence):
    rng = np.random.default_rng([seed, S_MONTH, k])
    t = k / 12.0
    progress = min(t / total_years, 1.0) if total_years else 1.0
    shape = panel.vol.shape
    fl = flags_at(counties, items, panel, t)
    lam = panel.vol * (season * (1 + 0.05 * t)) * rng.lognormal(0, 0.12, shape).astype(np.float32)
    apps = rng.poisson(lam)
    online = fl["online"]
    p_on = 0.38 + 0.32 * progress + np.where(lag, -0.13, 0.0) + np.where(lead, 0.05, 0.0)
    p_on = np.clip(p_on + np.where(fl["full"], 0.10, 0.0) + rng.normal(0, 0.04, shape), 0.02, 0.97)
    online_apps = np.where(online, rng.binomial(apps, p_on), 0)
    completed = rng.binomial(apps, np.clip(rng.normal(0.985, 0.006, shape), 0.9, 1.0))
    p_time = np.clip(np.where(lag, 0.972, 0.993) + rng.normal(0, 0.004, shape), 0.9, 1.0)
    on_time = rng.binomial(completed, p_time)
    one_visit_done = rng.binomial(completed, np.where(fl["one_visit"], 0.93, 0.35))
    zero_done = rng.binomial(one_visit_done, np.where(fl["zero"], 0.55 + 0.3 * progress, 0.05))
    reviews = rng.binomial(completed, np.clip(0.30 + 0.25 * progress + rng.normal(0, 0.05, shape), 0.1, 0.8))
    p_bad = np.where(lag, 0.014, 0.005) * rng.lognormal(0, 0.4, shape)
    bad = rng.binomial(reviews, np.clip(p_bad, 0, 0.05))
    fixed = rng.binomial(bad, np.where(lag, 0.93, 0.996))
    licences = np.where(licence, rng.binomial(completed, 0.96), 0)
    p_e = 0.55 + 0.4 * progress + np.where(lag, -0.2, 0.0) + np.where(lead, 0.04, 0.0)
    e_synced = rng.binomial(licences, np.clip(p_e, 0.05, 0.99))
    i32 = np.int32
    return {
        "is_online_capable": online.ravel().astype(np.int8),
        "is_full_online": fl["full"].ravel().astype(np.int8),
        "is_mobile": fl["mobile"].ravel().astype(np.int8),
        "is_one_visit": fl["one_visit"].ravel().astype(np.int8),
        "is_zero_visit": fl["zero"].ravel().astype(np.int8),
        "applications": apps.ravel().astype(i32),
        "online_applications": online_apps.ravel().astype(i32),
        "completed": completed.ravel().astype(i32),
        "completed_on_time": on_time.ravel().astype(i32),
        "one_visit_done": one_visit_done.ravel().astype(i32),
        "zero_visit_done": zero_done.ravel().astype(i32),
        "good_reviews": (reviews - bad).ravel().astype(i32),
        "bad_reviews": bad.ravel().astype(i32),
        "bad_fixed": fixed.ravel().astype(i32),
        "licences_issued": licences.ravel().astype(i32),
        "e_licences_synced": e_synced.ravel().astype(i32),
    }


def item_table(counties: Counties, items: pd.DataFrame, panel: Panel, months: pd.DatetimeIndex) -> pd.DataFrame:
    """service_item with its flags as of the latest month (held by most counties)."""
    fl = flags_at(counties, items, panel, (len(months) - 1) / 12.0)
    out = items[
        ["item_code", "name", "dept_code", "item_type", "audience", "on_application", "onsite_required",
         "statutory_days", "promised_days"]
    ].copy()
    out["online_capable"] = fl["online"].mean(axis=0) >= 0.5
    out["full_online"] = fl["full"].mean(axis=0) >= 0.5
    out["mobile"] = fl["mobile"].mean(axis=0) >= 0.5
    out["one_visit"] = fl["one_visit"].mean(axis=0) >= 0.5
    out["zero_visit"] = fl["zero"].mean(axis=0) >= 0.5
    out["one_thing"] = items["one_thing"].to_numpy()
    out["cross_province"] = items["cross_province"].to_numpy()
    return out


# ---------------------------------------------------------------- hotline

HOTLINE = [  # category, share of tickets, summer factor, winter factor
    ("咨询", 0.55, 1.0, 1.0),
    ("求助", 0.12, 1.05, 1.2),
    ("投诉", 0.22, 1.35, 0.95),
    ("举报", 0.04, 1.1, 0.95),
    ("建议", 0.07, 1.0, 1.0),
]


def hotline(counties: Counties, months: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng([seed, S_HOTLINE])
    nm, nc, nk = len(months), counties.n, len(HOTLINE)
    shape = (nm, nc, nk)
    t = np.arange(nm) / 12.0
    season = season_factor(months) / MONTH_FACTOR[months.month - 1]  # keep only the festival dip
    season = 0.8 + 0.2 * season  # the hotline dips less than counters do
    summer = np.isin(months.month, [7, 8])[:, None]
    winter = np.isin(months.month, [12, 1])[:, None]
    share = np.array([h[1] for h in HOTLINE])[None, :]
    cat_season = np.where(summer, [h[2] for h in HOTLINE], np.where(winter, [h[3] for h in HOTLINE], 1.0))
    size = counties.frame["size"].to_numpy()
    lam = (
        2600.0 * size[None, :, None] * (season * (1 + 0.06 * t))[:, None, None]
        * (share * cat_season)[:, None, :] * rng.lognormal(0, 0.1, shape)
    )
    received = rng.poisson(lam)
    kind = counties.frame["kind"].to_numpy()
    lag = (kind == "滞后")[None, :, None]
    due = rng.binomial(received, 0.9)
    trend = (t / max(t[-1], 1))[:, None, None]
    p_time = np.clip(np.where(lag, 0.925, 0.965) + 0.02 * trend + rng.normal(0, 0.01, shape), 0.8, 0.995)
    closed = rng.binomial(due, p_time)
    called = rng.binomial(received, 0.62)
    p_sat = np.clip(np.where(lag, 0.86, 0.92) + 0.04 * trend + rng.normal(0, 0.012, shape), 0.7, 0.99)
    satisfied = rng.binomial(called, p_sat)
    idx = np.indices(shape).reshape(3, -1)
    return pd.DataFrame(
        {
            "month": months.values.astype("datetime64[D]")[idx[0]],
            "county_code": counties.frame["code"].to_numpy()[idx[1]],
            "category": np.array([h[0] for h in HOTLINE], dtype=object)[idx[2]],
            "received": received.ravel().astype(np.int32),
            "due": due.ravel().astype(np.int32),
            "closed_on_time": closed.ravel().astype(np.int32),
            "called_back": called.ravel().astype(np.int32),
            "satisfied": satisfied.ravel().astype(np.int32),
        }
    )


# ---------------------------------------------------------------- data resources

DATA_DEPTS = ["D01", "D02", "D03", "D04", "D06", "D07", "D11", "D12"]


def data_resources(counties: Counties, months: pd.DatetimeIndex, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng([seed, S_DATA])
    nm, nc, nd = len(months), counties.n, len(DATA_DEPTS)
    shape = (nm, nc, nd)
    size = counties.frame["size"].to_numpy()[None, :, None]
    kind = counties.frame["kind"].to_numpy()
    lag = (kind == "滞后")[None, :, None]
    progress = (np.arange(nm) / max(nm - 1, 1))[:, None, None]
    start = rng.integers(15, 70, (1, nc, nd))
    adds = rng.poisson(np.where(lag, 0.5, 1.3) * np.ones(shape))
    catalogs = start + np.cumsum(adds, axis=0)
    requests = rng.poisson(6.0 * size * (1 + progress) * np.ones(shape))
    p_ful = np.clip(np.where(lag, 0.78, 0.86) + 0.1 * progress + rng.normal(0, 0.03, shape), 0.5, 1.0)
    fulfilled = rng.binomial(requests, p_ful)
    checks = rng.poisson(28.0 * np.ones(shape))
    score = np.clip(np.where(lag, 74.0, 80.0) + 12.0 * progress + rng.normal(0, 2.5, shape), 55, 99)
    points = np.round(checks * score, 1)
    units_total = np.broadcast_to(rng.integers(8, 45, (1, nc, nd)), shape)
    cov = np.clip(np.where(lag, 0.68, 0.82) + np.where(lag, 0.22, 0.18) * progress
                  + rng.normal(0, 0.015, (1, nc, nd)), 0.3, 1.0)
    covered = np.minimum(np.floor(units_total * cov + 0.5), units_total)
    covered = np.maximum.accumulate(covered, axis=0)  # a connected unit stays connected
    idx = np.indices(shape).reshape(3, -1)
    return pd.DataFrame(
        {
            "month": months.values.astype("datetime64[D]")[idx[0]],
            "county_code": counties.frame["code"].to_numpy()[idx[1]],
            "dept_code": np.array(DATA_DEPTS, dtype=object)[idx[2]],
            "catalogs": catalogs.ravel().astype(np.int32),
            "share_requests": requests.ravel().astype(np.int32),
            "share_fulfilled": fulfilled.ravel().astype(np.int32),
            "quality_checks": checks.ravel().astype(np.int32),
            "quality_points": points.ravel().astype(np.float64),
            "units_total": units_total.ravel().astype(np.int32),
            "units_covered": covered.ravel().astype(np.int32),
        }
    )
