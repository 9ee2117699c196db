"""rank_frame (plain lists, for speed) ranks as pandas' rank(method="min") per KPI, by direction."""

import numpy as np
import pandas as pd

from metrics.catalogue import load_catalogue
from metrics.engine.result import rank_frame


def _reference(df: pd.DataFrame) -> pd.DataFrame:
    cat = load_catalogue()
    out = df.copy()
    out["rank"] = pd.Series(pd.NA, index=df.index, dtype="Int64")
    out["rank_of"] = pd.Series(pd.NA, index=df.index, dtype="Int64")
    for kpi_id, idx in df.groupby("kpi_id").groups.items():
        values = df.loc[idx, "value"].astype(float)
        out.loc[idx, "rank"] = values.rank(method="min", ascending=not cat.kpi(kpi_id).higher_is_better).astype("Int64")
        out.loc[idx, "rank_of"] = int(values.notna().sum())
    return out


def test_ties_share_the_best_rank_and_lower_is_better_ranks_the_smallest_first():
    df = pd.DataFrame({"kpi_id": ["online_handling_rate"] * 4 + ["overdue_projects"] * 3,
                       "value": [90.0, 95.0, 90.0, None, 3.0, 1.0, 3.0]})
    out = rank_frame(df)
    assert out["rank"].tolist() == [2, 1, 2, pd.NA, 2, 1, 2]
    assert out["rank_of"].tolist() == [3, 3, 3, 3, 3, 3, 3]


def test_random_frames_rank_as_pandas_does():
    ids = ["online_handling_rate", "overdue_projects", "satisfaction_rate", "not_started_6m"]
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(0, 40))
        values = rng.integers(0, 6, n).astype(float)
        values[rng.random(n) < 0.25] = np.nan
        df = pd.DataFrame({"kpi_id": rng.choice(ids, n), "value": values})
        pd.testing.assert_frame_equal(rank_frame(df), _reference(df))
