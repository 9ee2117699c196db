"""The access scope fails closed."""

import pytest

from data.scope import Scope, ScopeError, require


def test_a_missing_scope_fails_closed():
    with pytest.raises(ScopeError, match="缺少访问范围"):
        require(None)


def test_an_empty_or_malformed_scope_is_refused():
    with pytest.raises(ScopeError):
        Scope(regions=())
    with pytest.raises(ScopeError, match="地区代码无效"):
        Scope(regions=("36",))


def test_scope_parameters_bind_regions_and_departments():
    assert Scope.province("360000").params() == {"scope_regions": ["360000"], "scope_all_depts": True,
                                                  "scope_depts": []}
    assert Scope(("360100",), ("D01",)).params()["scope_depts"] == ["D01"]
