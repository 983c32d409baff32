"""Every RADS system has exactly one registered formula, versioned, whose categories are the system's."""

from radlite.rads_formulas import FORMULAS, MODULES
from radlite.tasks.rads import SEVERITY


def test_one_formula_per_system_with_its_version_and_categories():
    assert set(FORMULAS) == set(SEVERITY)
    for system, formula in FORMULAS.items():
        assert formula.system == system and formula.version
        assert set(formula.order) <= set(SEVERITY[system]), system
    assert len({f.version for f in FORMULAS.values()}) == len(FORMULAS)
    assert all(any(type(f).__module__ == m.__name__ for m in MODULES) for f in FORMULAS.values())
