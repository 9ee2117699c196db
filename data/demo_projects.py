"""Demo digital-government projects: register, lifecycle events, budgets and payments.

The portfolio is a funnel as of the end month: early applications are completed and
evaluated, recent ones are still in review. Rule breaches (overdue, not started six
months after approval, over budget, trial run without final acceptance, missing
self-evaluation, not on the government cloud, split applications) are planted at
realistic shares. Scale does not change the projects.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from data.demo_reference import DEPARTMENTS

SHORT = {d[0]: d[2] for d in DEPARTMENTS}

S_PROJECTS, S_PAY = 11, 12
N_PROJECTS = 800
N_SPLIT_PAIRS = 10
DAYS_PER_MONTH = 30.44

LEVELS = ["省级", "市级", "县级"]
CATEGORIES = ["基础设施", "应用系统", "数据资源", "安全保障", "运维服务"]
CATEGORY_P = [0.18, 0.42, 0.15, 0.12, 0.13]
# owner departments and how often they run projects
DEPT_WEIGHT = {
    "D21": 3.0, "D19": 2.5, "D01": 2.0, "D03": 1.4, "D06": 1.4, "D11": 1.2, "D02": 1.2,
    "D04": 1.1, "D05": 1.0, "D20": 1.2, "D17": 0.9, "D07": 0.8, "D08": 0.8, "D09": 0.7,
    "D13": 0.7, "D12": 0.7, "D14": 0.6, "D10": 0.4, "D15": 0.4, "D16": 0.5, "D18": 0.6,
}
SYSTEMS = {
    "D01": ["智慧警务综合平台", "公安视频图像信息共享平台", "智慧交管平台", "移动警务终端系统"],
    "D02": ["智慧市场监管平台", "食品安全追溯监管平台", "特种设备智慧监管系统"],
    "D03": ["人社一体化信息平台", "智慧就业公共服务平台", "社保卡“一卡通”服务平台"],
    "D04": ["国土空间基础信息平台", "自然资源“一张图”系统", "耕地保护动态监测系统"],
    "D05": ["智慧住建综合平台", "工程建设项目审批管理系统", "城市生命线安全监测平台"],
    "D06": ["全民健康信息平台", "互联网医院服务平台", "公共卫生应急指挥系统"],
    "D07": ["智慧养老服务平台", "社会救助综合信息系统", "婚姻登记信息管理系统"],
    "D08": ["智慧教育云平台", "教育入学服务平台"],
    "D09": ["智慧交通综合管理平台", "道路运输安全监管平台"],
    "D10": ["智慧税务服务平台", "涉税信息共享平台"],
    "D11": ["医保信息平台", "医保基金智能监管系统", "医保移动支付平台"],
    "D12": ["不动产登记“一窗受理”平台", "不动产登记信息管理系统"],
    "D13": ["生态环境监测监控平台", "污染源在线监控系统"],
    "D14": ["智慧农业综合服务平台", "农产品质量安全追溯平台"],
    "D15": ["电子商务公共服务平台", "商务运行监测系统"],
    "D16": ["智慧旅游服务平台", "文化旅游市场监管系统"],
    "D17": ["应急指挥综合平台", "安全生产风险监测预警系统", "自然灾害监测预警系统"],
    "D18": ["智慧司法综合平台", "公共法律服务平台", "行政执法监督平台"],
    "D19": ["一体化政务服务平台", "12345政务服务便民热线系统", "政务服务“好差评”系统",
            "移动政务服务（掌上办）平台", "“一件事一次办”综合受理系统"],
    "D20": ["投资项目在线审批监管平台", "公共信用信息平台", "电子政务外网运行监测系统"],
    "D21": ["城市运行管理中心（城市大脑）", "政务数据共享交换平台", "领导驾驶舱决策支持系统",
            "数字政府决策指挥平台", "公共数据开放平台"],
}
INFRA = ["政务云平台扩容", "电子政务外网升级改造", "视频会议系统升级改造", "数据中心机房改造",
         "电子政务外网IPv6改造", "物联感知平台"]
DATA = ["政务数据资源目录梳理", "政务数据治理", "人口综合库", "法人单位库", "电子证照库",
        "视频资源共享平台"]
SECURITY = ["网络安全态势感知平台", "等级保护测评及安全加固", "商用密码应用改造",
            "数据安全防护体系", "政务外网安全运营中心"]
# a month's weight in the fiscal year: a slow first quarter, December bunching
FISCAL = np.array([0.6, 0.6, 1.0, 1.0, 1.05, 1.45, 0.95, 0.95, 1.2, 0.9, 1.1, 2.8])
STAGES = ["applied", "assessed", "joint_reviewed", "approved", "procured", "started", "trial",
          "initial_accepted", "final_accepted", "completed", "in_operation", "evaluated"]
PERIOD = ["一期", "二期", "三期", "四期", "五期", "六期"]


def _month_start(d: pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(year=d.year, month=d.month, day=1)


def _add_months(dates: np.ndarray, months: np.ndarray) -> np.ndarray:
    return dates + np.round(np.asarray(months) * DAYS_PER_MONTH).astype("timedelta64[D]")


def generate(regions: pd.DataFrame, county_size: pd.Series, months: pd.DatetimeIndex,
             seed: int) -> dict[str, pd.DataFrame]:
    """project, project_event, budget and payment for the months of the range."""
    rng = np.random.default_rng([seed, S_PROJECTS])
    end_start = months[-1]
    start_month, months_in_range = months[0], len(months)
    end_date = (end_start + pd.offsets.MonthEnd(0)).to_datetime64().astype("datetime64[D]")
    province = regions.iloc[0]
    counties = regions[regions["level"] == "county"].reset_index(drop=True)
    # county parents: cities, or the province itself for county-level units under it
    cities = regions[regions["code"].isin(counties["parent_code"])].reset_index(drop=True)
    main_district = _main_districts(cities, counties)
    n = N_PROJECTS

    # ---- who, where, what
    level = rng.choice(LEVELS, n, p=[0.15, 0.30, 0.55])
    depts = list(DEPT_WEIGHT)
    w = np.array(list(DEPT_WEIGHT.values()))
    dept = rng.choice(depts, n, p=w / w.sum())
    size = county_size.reindex(counties["code"]).to_numpy()
    county_pick = rng.choice(len(counties), n, p=size / size.sum())
    city_size = pd.Series(size, index=counties["parent_code"]).groupby(level=0).sum()
    city_pick = rng.choice(city_size.index.to_numpy(), n, p=(city_size / city_size.sum()).to_numpy())
    capital = cities.iloc[0]["code"]
    county_code = np.where(
        level == "省级", main_district[capital],
        np.where(level == "市级", [main_district[c] for c in city_pick], counties["code"].to_numpy()[county_pick]),
    )
    county_name = dict(zip(counties["code"], counties["name"], strict=True))
    city_name = dict(zip(cities["code"], cities["name"], strict=True))
    parent = dict(zip(counties["code"], counties["parent_code"], strict=True))
    place = np.where(
        level == "省级", province["name"],
        np.where(level == "市级", [city_name[c] for c in city_pick], [county_name[c] for c in county_code]),
    ).astype(object)
    county_code = county_code.astype(object)
    level = level.astype(object)
    dept = dept.astype(object)
    owner = _owner_units(level, dept, place, rng)
    category = _categories(dept, rng)
    base = {"省级": (3000.0, 1.0), "市级": (300.0, 0.95), "县级": (90.0, 0.9)}
    median = np.array([base[lv][0] for lv in level])
    sigma = np.array([base[lv][1] for lv in level])
    cat_mult = pd.Series(category).map(
        {"基础设施": 1.5, "应用系统": 1.0, "数据资源": 0.9, "安全保障": 0.7, "运维服务": 0.5}
    ).to_numpy()
    budget = np.clip(median * cat_mult * rng.lognormal(0, sigma), 5.0, 60000.0)
    budget = np.where(budget >= 100, np.round(budget), np.round(budget, 1))
    fund = _fund_sources(level, rng)

    # ---- when: application dates, from the first January in the range to the month before the end
    first = pd.Timestamp(start_month)
    if months_in_range >= 13 and first.month != 1:
        first = pd.Timestamp(year=first.year + 1, month=1, day=1)
    cand = pd.date_range(first, end_start - pd.DateOffset(months=1), freq="MS")
    if not len(cand):
        cand = pd.DatetimeIndex([end_start])
    mw = np.array([0.5, 0.8, 1.2, 1.2, 1.1, 1.1, 1.0, 1.1, 1.0, 0.9, 0.7, 0.5])
    cw = mw[cand.month - 1] * (1 + 0.06 * (cand.year.to_numpy() - first.year))
    pick = rng.choice(len(cand), n, p=cw / cw.sum())
    apply_year = cand.year.to_numpy()[pick]
    applied = (cand.values.astype("datetime64[D]")[pick] + rng.integers(0, 28, n).astype("timedelta64[D]"))

    # ---- split suspects: the last 2×N_SPLIT_PAIRS rows become pairs from one unit
    names = _names(place, owner, dept, category, apply_year, rng)
    pair_rows = np.arange(n - 2 * N_SPLIT_PAIRS, n)
    for k in range(N_SPLIT_PAIRS):
        a, b = pair_rows[2 * k], pair_rows[2 * k + 1]
        level[a] = level[b] = "县级" if k % 3 else "市级"
        for arr in (dept, county_code, place, fund, apply_year, category):
            arr[b] = arr[a]
        if county_code[a] not in parent:  # a provincial seat: move it into a county
            county_code[a] = counties["code"].iloc[k * 7 % len(counties)]
        city = parent[county_code[a]]
        if level[a] == "市级":
            county_code[a] = main_district[city]
            place[a] = city_name[city]
        else:
            place[a] = county_name[county_code[a]]
        county_code[b], place[b] = county_code[a], place[a]
        category[a] = category[b] = "应用系统"
        owner[a] = owner[b] = _owner_units(level[[a]], dept[[a]], place[[a]], rng)[0]
        system = SYSTEMS[dept[a]][k % len(SYSTEMS[dept[a]])]
        if k % 2:
            names[a], names[b] = f"{place[a]}{system}（一期）", f"{place[a]}{system}（二期）"
        else:
            names[a], names[b] = f"{place[a]}{system}升级改造项目", f"{place[a]}{system}功能完善项目"
        thr = 20.0 if k % 2 == 0 else 200.0
        budget[a] = round(thr * (1 - rng.uniform(0.004, 0.02)), 1 if thr == 20 else 0)
        budget[b] = round(thr * (1 - rng.uniform(0.004, 0.03)), 1 if thr == 20 else 0)
        apply_year[a] = apply_year[b] = max(min(apply_year[a], end_start.year - 1), first.year)
        day = np.datetime64(f"{apply_year[a]}-{rng.integers(2, 8):02d}-{rng.integers(1, 29):02d}")
        applied[a] = min(max(day, np.datetime64(first.date())), np.datetime64(end_start.date()))
        applied[b] = applied[a] + np.timedelta64(int(rng.integers(10, 60)), "D")
    names = _dedupe(names)
    tier = _tiers(budget, category)

    # ---- lifecycle (dates in stage order)
    ev = {"applied": applied}
    ev["assessed"] = _add_months(applied, rng.uniform(1, 2, n))
    ev["joint_reviewed"] = _add_months(ev["assessed"], rng.uniform(0.7, 1.3, n))
    ev["approved"] = _add_months(ev["joint_reviewed"], rng.uniform(1, 2, n))
    ev["procured"] = _add_months(ev["approved"], rng.uniform(1, 3, n))
    ev["started"] = _add_months(ev["procured"], rng.uniform(0, 2, n))
    big = (tier == "省重点") & (rng.random(n) < 0.6)
    planned_months = np.where(big, rng.integers(13, 25, n), rng.integers(9, 13, n))
    planned_months = np.where(category == "运维服务", 12, planned_months)
    ps = _add_months(ev["approved"], np.full(n, 2.5))
    planned_start = ps.astype("datetime64[M]").astype("datetime64[D]")
    planned_finish = (planned_start.astype("datetime64[M]") + planned_months).astype("datetime64[D]") - 1
    u = rng.random(n)
    overrun = np.select(  # half on time, a third late, a sixth badly late
        [u < 0.5, u < 0.8], [rng.uniform(0.7, 0.98, n), rng.uniform(1.05, 1.5, n)], rng.uniform(1.5, 2.6, n)
    )
    total = planned_months * overrun
    stuck_trial = rng.random(n) < 0.12
    # 第三十条「项目建成后经6个月试运行正常，由项目单位组织终验」: six calendar months (at most 184
    # days, hence 6.1 × 30.44), then a few weeks to organise the acceptance; stuck ones run far longer
    trial_len = np.where(stuck_trial, rng.uniform(9, 30, n), rng.uniform(6.1, 7, n))
    build_len = np.maximum(total - np.where(stuck_trial, 6.5, trial_len), 3.0)
    ev["trial"] = _add_months(ev["started"], build_len)
    ev["final_accepted"] = _add_months(ev["trial"], trial_len)
    ev["initial_accepted"] = _add_months(
        ev["trial"], np.where(stuck_trial, rng.uniform(1, 3, n), trial_len * rng.uniform(0.4, 0.7, n))
    )
    ev["completed"] = _add_months(ev["final_accepted"], rng.uniform(0, 1.5, n))
    ev["in_operation"] = ev["completed"] + rng.integers(0, 15, n).astype("timedelta64[D]")
    never_eval = rng.random(n) < 0.03
    ev["evaluated"] = _add_months(ev["completed"], rng.uniform(4, 10, n))

    # not started six months after approval: approved 6–26 months before the end
    months_since_appr = (end_date - ev["approved"]).astype(int) / DAYS_PER_MONTH
    window = (months_since_appr > 6.5) & (months_since_appr < 26) & (np.arange(n) < n - 2 * N_SPLIT_PAIRS)
    cand = np.flatnonzero(window)
    stuck = rng.choice(cand, min(len(cand), int(0.04 * n)), replace=False)
    stop_stage = np.full(n, len(STAGES), dtype=int)  # index of the first missing stage
    stop_stage[stuck] = np.where(rng.random(len(stuck)) < 0.5, STAGES.index("procured"), STAGES.index("started"))
    stop_stage[never_eval] = np.minimum(stop_stage[never_eval], STAGES.index("evaluated"))

    # terminated (~2%): old stuck approvals, and a few in review or construction
    term_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    old_stuck = stuck[months_since_appr[stuck] > 16][:6]
    term_date[old_stuck] = _add_months(ev["approved"][old_stuck], rng.uniform(12, 15, len(old_stuck)))
    others = rng.choice(np.setdiff1d(np.arange(n - 2 * N_SPLIT_PAIRS), stuck), 10, replace=False)
    term_stage = rng.choice(["joint_reviewed", "procured", "trial"], len(others))
    term_date[others] = _add_months(
        np.array([ev[s][i] for s, i in zip(term_stage, others, strict=True)]), rng.uniform(0.5, 3, len(others))
    )
    terminated = ~np.isnat(term_date) & (term_date <= end_date)

    events = []
    for k, stage in enumerate(STAGES):
        d = ev[stage]
        keep = (k < stop_stage) & (d <= end_date) & ~(terminated & (d >= term_date))
        events.append(pd.DataFrame({"row": np.flatnonzero(keep), "stage": stage, "event_date": d[keep]}))
    events.append(pd.DataFrame({"row": np.flatnonzero(terminated), "stage": "terminated",
                                "event_date": term_date[terminated]}))
    events = pd.concat(events, ignore_index=True)
    reached = {s: np.zeros(n, bool) for s in STAGES}
    for s, g in events.groupby("stage"):
        if s in reached:
            reached[s][g["row"].to_numpy()] = True

    # ---- ids (by application date) and flags
    order = np.argsort(applied, kind="stable")
    seq = np.empty(n, dtype=int)
    seq[order] = np.arange(1, n + 1)
    project_id = np.array([f"P{y}{s:04d}" for y, s in zip(apply_year, seq, strict=True)], dtype=object)
    classified = rng.random(n) < 0.03
    on_cloud = ~classified & (rng.random(n) > 0.065)
    evaluated = reached["evaluated"]
    score = np.where(evaluated, np.round(np.clip(rng.normal(84, 7, n), 60, 98), 1), np.nan)
    has_plan = reached["approved"]
    project = pd.DataFrame(
        {
            "project_id": project_id, "name": names, "owner_unit": owner, "owner_level": level,
            "dept_code": dept, "county_code": county_code, "category": category, "tier": tier,
            "approved_budget": budget, "fund_source": fund, "apply_year": apply_year,
            "planned_start": np.where(has_plan, planned_start, np.datetime64("NaT")),
            "planned_finish": np.where(has_plan, planned_finish, np.datetime64("NaT")),
            "on_gov_cloud": on_cloud, "classified": classified,
            "data_sharing_confirmed": rng.random(n) < 0.9,
            "crypto_assessed": rng.random(n) < np.where(apply_year >= 2024, 0.8, 0.55),
            "mlps_level": rng.choice([2, 3, 4], n, p=[0.55, 0.41, 0.04]).astype(np.int8),
            "performance_score": score,
            "terminated": terminated,
        }
    )
    events["project_id"] = project_id[events["row"].to_numpy()]
    events["note"] = None
    events.loc[events["stage"] == "terminated", "note"] = "项目终止，资金按规定收回"
    events = events[["project_id", "stage", "event_date", "note"]]

    # ---- money
    pay_rng = np.random.default_rng([seed, S_PAY])
    over = _pick_over_budget(reached, ev, end_date, terminated, n, pay_rng)
    will_start = stop_stage > STAGES.index("started")
    budget_rows, payment_rows = _money(project, ev, reached, will_start, term_date, over, end_date, pay_rng)
    return {"project": project, "project_event": events, "budget": budget_rows, "payment": payment_rows}


# ---------------------------------------------------------------- helpers


def _main_districts(cities: pd.DataFrame, counties: pd.DataFrame) -> dict[str, str]:
    """Each city's seat: its first 区 (else its first county)."""
    out = {}
    for code in cities["code"]:
        kids = counties[counties["parent_code"] == code]
        districts = kids[kids["name"].str.endswith("区")]
        pick = districts if len(districts) else kids
        out[code] = pick.iloc[0]["code"] if len(pick) else code
    return out


def _owner_units(level, dept, place, rng) -> np.ndarray:
    city_name = {d[0]: d[1] for d in DEPARTMENTS}
    prov_name = {d[0]: d[3] for d in DEPARTMENTS}
    out = np.empty(len(level), dtype=object)
    r = rng.random(len(level))
    for k, (lv, d, p) in enumerate(zip(level, dept, place, strict=True)):
        if lv == "省级":
            if d == "D20" and r[k] < 0.6:
                out[k] = f"{p}信息中心"
            elif d == "D21" and r[k] < 0.3:
                out[k] = f"{p}大数据中心"
            else:
                out[k] = f"{p}{prov_name[d]}"
        elif d == "D19" and r[k] < 0.5:
            out[k] = f"{p}政务服务中心"
        elif d == "D20" and r[k] < 0.3:
            out[k] = f"{p}信息中心"
        else:
            out[k] = f"{p}{city_name[d]}"
    return out


def _categories(dept, rng) -> np.ndarray:
    """Data bureaus and information centres build the shared infrastructure; line
    departments mostly build applications and buy O&M."""
    n = len(dept)
    core = rng.choice(CATEGORIES, n, p=[0.3, 0.25, 0.22, 0.13, 0.1])
    line = rng.choice(CATEGORIES, n, p=[0.04, 0.68, 0.05, 0.09, 0.14])
    return np.where(np.isin(dept, ["D19", "D20", "D21"]), core, line).astype(object)


def _fund_sources(level, rng) -> np.ndarray:
    options = {
        "省级": (["省级", "中央"], [0.85, 0.15]),
        "市级": (["市级", "省级", "中央", "社会资本"], [0.75, 0.1, 0.05, 0.1]),
        "县级": (["县级", "市级", "省级", "中央", "社会资本"], [0.7, 0.05, 0.1, 0.1, 0.05]),
    }
    out = np.empty(len(level), dtype=object)
    for lv, (vals, p) in options.items():
        sel = level == lv
        out[sel] = rng.choice(vals, sel.sum(), p=p)
    return out


def _names(place, owner, dept, category, year, rng) -> np.ndarray:
    out = np.empty(len(place), dtype=object)
    r = rng.random(len(place))
    for k, (p, o, d, c, y) in enumerate(zip(place, owner, dept, category, year, strict=True)):
        pick = rng.integers(0, 1000)
        apps = SYSTEMS[d]
        core = d in ("D19", "D20", "D21")
        if c == "基础设施":
            stem = INFRA[pick % len(INFRA)] if core else INFRA[2 + pick % 2]
        elif c == "数据资源":
            stem = DATA[pick % len(DATA)] if core else f"{SHORT[d]}数据治理"
        elif c == "安全保障":
            stem = SECURITY[pick % len(SECURITY)] if core else SECURITY[1 + pick % 3]
        else:
            stem = apps[pick % len(apps)]
        if c == "运维服务":
            what = stem if r[k] < 0.6 else ("信息化系统" if not core else INFRA[pick % 2])
            out[k] = f"{o}{y}年度{what}运维服务项目"
        elif not core and c in ("基础设施", "安全保障"):
            out[k] = f"{o}{stem}项目"
        elif r[k] < 0.7:
            out[k] = f"{p}{stem}建设项目"
        elif r[k] < 0.88:
            out[k] = f"{p}{stem}升级改造项目"
        else:
            out[k] = f"{p}{stem}（一期）"
    return out


def _dedupe(names: np.ndarray) -> np.ndarray:
    seen: dict[str, int] = {}
    out = names.copy()
    for k, name in enumerate(names):
        c = seen.get(name, 0)
        seen[name] = c + 1
        if c:
            stem = name.removesuffix("（一期）").removesuffix("建设项目")
            out[k] = f"{stem}（{PERIOD[min(c, len(PERIOD) - 1)]}）"
            if out[k] in seen:
                out[k] = f"{stem}（{PERIOD[min(c, len(PERIOD) - 1)]}）续建项目"
    return out


def _tiers(budget, category) -> np.ndarray:
    """第九条: 省重点 takes 基础设施 projects from 1000万 and other projects from 500万
    「(不包括运维)」: an O&M project is never 省重点, whatever its budget."""
    infra = category == "基础设施"
    key = np.where(infra, budget >= 1000, (budget >= 500) & (category != "运维服务"))
    return np.select(
        [key, budget >= 200, budget >= 20], ["省重点", "较大", "一般"], "较小"
    ).astype(object)


def _pick_over_budget(reached, ev, end_date, terminated, n, rng) -> np.ndarray:
    ok = reached["final_accepted"] & ~terminated & (ev["final_accepted"] < end_date - np.timedelta64(60, "D"))
    cand = np.flatnonzero(ok)
    over = np.zeros(n, bool)
    over[rng.choice(cand, min(len(cand), int(0.03 * n)), replace=False)] = True
    return over


def _month_of(d) -> pd.Timestamp:
    d = pd.Timestamp(d)
    return pd.Timestamp(year=d.year, month=d.month, day=1)


def _money(project, ev, reached, will_start, term_date, over, end_date, rng):
    """Annual budgets and monthly payments.

    Payments follow the actual schedule (advance at the start, progress payments,
    acceptance payment, a 5% retention a year after completion) with fiscal timing.
    A year's budget is what the unit expected to pay that year, so execution ends the
    year a little under 100%; lagging units were given far more than they could spend.
    """
    end_m = _month_of(end_date)
    far = pd.Timestamp("2100-01-01")
    units = np.unique(project["owner_unit"].to_numpy().astype(str))
    lag_units = set(units[rng.random(len(units)) < 0.15])
    pays: list[tuple] = []
    buds: list[tuple] = []
    for i, p in enumerate(project.itertuples(index=False)):
        if not reached["approved"][i]:
            continue
        kind = "运维" if p.category == "运维服务" else "建设"
        key = (p.county_code, p.dept_code, p.project_id, p.fund_source)
        approved_budget = float(p.approved_budget)
        approved_m = _month_of(ev["approved"][i])
        stop = _month_of(term_date[i]) if p.terminated else far
        ratio = rng.uniform(1.08, 1.18) if over[i] else rng.uniform(0.86, 0.99)
        spend = approved_budget * ratio
        lumps: dict[pd.Timestamp, float] = {}

        def add(month, amount, lumps=lumps, first=approved_m, stop=stop):
            if first <= month <= stop and amount > 0:
                month = _fiscal_delay(month, stop, rng)
                lumps[month] = lumps.get(month, 0.0) + amount

        if will_start[i] and ev["started"][i] <= np.datetime64(stop):
            s_m = _month_of(ev["started"][i])
            f_m = _month_of(ev["final_accepted"][i])
            next_m = s_m + pd.DateOffset(months=1)
            add(s_m, 0.18 * spend)
            add(next_m, 0.12 * spend)
            prog = pd.date_range(s_m + pd.offsets.MonthBegin(1), f_m, freq="MS")
            if len(prog):
                wts = FISCAL[prog.month - 1] * rng.uniform(0.5, 1.5, len(prog))
                for m, a in zip(prog, 0.35 * spend * wts / wts.sum(), strict=True):
                    add(m, a)
            else:
                add(s_m, 0.35 * spend)
            for lag, share in ((0, 0.15), (1, 0.09), (2, 0.06)):
                add(f_m + pd.DateOffset(months=lag), share * spend)
            add(_month_of(ev["completed"][i]) + pd.DateOffset(months=12), 0.05 * spend)
        factor = (rng.uniform(1.25, 1.6) if p.owner_unit in lag_units else rng.uniform(1.0, 1.06))
        if lumps:
            paid = pd.Series(lumps, dtype=float)
            for y, amount in paid.groupby(paid.index.year).sum().items():
                if y <= end_m.year:
                    buds.append((y, *key, kind, round(amount * factor, 2)))
        else:  # approved but not started: the money sits in the budget (and is to be recovered)
            for y in range(approved_m.year, min(end_m.year, stop.year) + 1):
                buds.append((y, *key, kind, round(0.4 * approved_budget, 2)))
        for m, a in lumps.items():
            if m <= end_m:
                pays.append((m, *key, kind, round(a, 2)))
        # O&M after completion, from the next year; none for systems kept off the cloud
        if (kind == "建设" and reached["in_operation"][i] and not p.terminated
                and (p.on_gov_cloud or p.classified)):
            rate = rng.uniform(0.05, 0.09)
            for y in range(_month_of(ev["in_operation"][i]).year + 1, end_m.year + 1):
                amt = round(approved_budget * rate * rng.uniform(0.9, 1.1), 2)
                buds.append((y, *key, "运维", amt))
                for mo, share in ((6, 0.4), (12, 0.6)):
                    m = pd.Timestamp(year=y, month=mo, day=1)
                    if m <= end_m:
                        pays.append((m, *key, "运维", round(amt * share * rng.uniform(0.9, 1.0), 2)))
    cols = ["county_code", "dept_code", "project_id", "fund_source", "kind", "amount_wan"]
    budget = pd.DataFrame(buds, columns=["year", *cols])
    payment = pd.DataFrame(pays, columns=["month", *cols])
    payment = payment.groupby(["month", "county_code", "dept_code", "project_id", "fund_source", "kind"],
                              as_index=False)["amount_wan"].sum()
    payment["amount_wan"] = payment["amount_wan"].round(2)
    payment["month"] = payment["month"].values.astype("datetime64[D]")
    return budget, payment


def _fiscal_delay(month: pd.Timestamp, stop: pd.Timestamp, rng) -> pd.Timestamp:
    """Payments slip: January–February bills often wait for March, and a good share of
    the year's invoices is settled in December."""
    r = rng.random()
    if month.month <= 2 and r < 0.6:
        cand = pd.Timestamp(year=month.year, month=3 if r < 0.3 else 4, day=1)
    elif 6 <= month.month < 12 and r < 0.2:
        cand = pd.Timestamp(year=month.year, month=12, day=1)
    else:
        return month
    return cand if cand <= stop else month
