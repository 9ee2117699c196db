"""The viewer's access scope: which regions and departments they may see.

Every query function takes a :class:`Scope` and applies it in SQL through the bound
parameters from :meth:`Scope.params`. A missing scope fails closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from metrics.errors import UserError

_CODE = re.compile(r"^\d{6}$")


class ScopeError(UserError, PermissionError):
    """The viewer may not see what was asked for, or no scope was given."""

    status = 403


@dataclass(frozen=True)
class Scope:
    """Regions (any level; their descendants are included) and departments.

    ``departments=None`` means every department; an empty tuple means none.
    """

    regions: tuple[str, ...]
    departments: tuple[str, ...] | None = None

    def __post_init__(self):
        if not self.regions:
            raise ScopeError("访问范围为空：未授权任何地区")
        for code in self.regions:
            if not isinstance(code, str) or not _CODE.match(code):
                raise ScopeError(f"访问范围中的地区代码无效：{code!r}")

    @classmethod
    def province(cls, code: str) -> Scope:
        """A province-level viewer: the whole province, every department."""
        return cls(regions=(code,))

    @property
    def all_departments(self) -> bool:
        return self.departments is None

    def params(self) -> dict[str, object]:
        """Bound parameters that every scoped ``.sql`` file expects."""
        return {
            "scope_regions": list(self.regions),
            "scope_all_depts": self.all_departments,
            "scope_depts": list(self.departments or ()),
        }


def require(scope: Scope | None) -> Scope:
    """Return ``scope`` or fail closed when it is missing."""
    if not isinstance(scope, Scope):
        raise ScopeError("缺少访问范围（scope），拒绝查询")
    return scope
