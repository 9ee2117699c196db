"""Tables (dash-ag-grid) with Chinese headers and number formats; no queries inside."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag
import pandas as pd

LOCALE_TEXT = {  # the few grid strings a viewer sees
    "noRowsToShow": "暂无数据", "loadingOoo": "加载中…", "filterOoo": "筛选…", "equals": "等于",
    "notEqual": "不等于", "contains": "包含", "notContains": "不包含", "startsWith": "开头是",
    "endsWith": "结尾是", "lessThan": "小于", "greaterThan": "大于", "inRange": "介于", "andCondition": "且",
    "orCondition": "或", "page": "页", "of": "共", "to": "至", "blank": "为空", "notBlank": "不为空",
    "pageSizeSelectorLabel": "每页行数：", "nextPage": "下一页", "previousPage": "上一页", "firstPage": "首页",
    "lastPage": "末页", "more": "更多",
}


def number_column(field: str, header: str, *, digits: int = 1, suffix: str = "", **extra) -> dict[str, Any]:
    """A right-aligned numeric column formatted in the browser (sorting stays numeric)."""
    fmt = f"params.value == null ? '—' : d3.format(',.{digits}f')(params.value) + '{suffix}'"
    return {"field": field, "headerName": header, "type": "rightAligned", "filter": "agNumberColumnFilter",
            "valueFormatter": {"function": fmt}, **extra}


def create_grid(df: pd.DataFrame, columns: list[dict], *, grid_id, height: int = 420,
                row_id: str | None = None, **grid_options) -> dag.AgGrid:
    """A sortable, filterable grid of ``df``; ``row_id`` names the column that identifies a row."""
    options = {"localeText": LOCALE_TEXT, "animateRows": False, "pagination": len(df) > 50,
               "paginationPageSize": 50, **grid_options}
    if row_id:
        options["getRowId"] = {"function": f"params.data.{row_id}"}
    return dag.AgGrid(
        id=grid_id, rowData=df.to_dict("records"), columnDefs=columns,
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 80},
        dashGridOptions=options, columnSize="responsiveSizeToFit", style={"height": f"{height}px"},
        className="ag-theme-quartz",
    )
