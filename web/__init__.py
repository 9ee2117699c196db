"""Flask routes beside the Dash app that are not pages (downloads of the 数据管理 page)."""
