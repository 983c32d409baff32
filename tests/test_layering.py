"""The library stands alone: radlite never imports the applications, its modules import no cycle, its
folders are layered (no two folders, or a folder and a top-level module, import each other), and no
module imports from a floor above its own (the report record stands below the timeline)."""

import ast
import os
import subprocess
import sys

from conftest import ROOT

APPLICATIONS = ("pipelines", "training", "radlite_cli")


def test_importing_the_library_loads_no_application_module():
    code = ("import sys, radlite, radlite.tasks, radlite.io, radlite.inference, radlite.routing, radlite.prompts, "
            "radlite.store\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {APPLICATIONS!r}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_no_library_module_imports_click():
    """The command line is an application: its click adapter lives in radlite_cli, not in the library."""
    for module, path in _all_files("radlite"):
        assert not _imports(path, "click"), f"{module} imports click"


def _module_name(path: str) -> str:
    rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
    return rel.removesuffix(".__init__")


def _imports(path: str, package: str) -> set[str]:
    """Project modules a file imports, anywhere in the file ('from x import y' counts x.y when it is a module)."""
    tree = ast.parse(open(path).read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {m for m in found if m.split(".")[0] == package}


def _all_files(package):
    for directory, _, files in os.walk(os.path.join(ROOT, package)):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                yield _module_name(path), path


def _graph(package: str) -> dict[str, set[str]]:
    modules = dict(_all_files(package))
    return {m: {i for i in _imports(p, package) if i in modules and i != m} for m, p in modules.items()}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_library_module_imports_an_application():
    for module, path in _all_files("radlite"):
        for application in APPLICATIONS:
            assert not _imports(path, application), f"{module} imports {application}"


def test_no_application_imports_the_engine():
    """The applications reach models through their kinds (radlite.kinds), never the engine itself."""
    for application in APPLICATIONS:
        for module, path in _all_files(application):
            assert not {m for m in _imports(path, "radlite") if m.startswith("radlite.inference")}, module


def test_library_imports_form_no_cycle():
    assert _cycle(_graph("radlite")) is None


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def _unit(module: str) -> str:
    """The layering unit of a library module: its folder inside radlite/ (radlite.kinds.cascade ->
    radlite.kinds), or the top-level module itself (radlite.store)."""
    return ".".join(module.split(".")[:2])


def _unit_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    units: dict[str, set[str]] = {}
    for module, imported in graph.items():
        units.setdefault(_unit(module), set()).update(_unit(i) for i in imported if _unit(i) != _unit(module))
    return units


def _two_way(units: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a, out in units.items() for b in out if a < b and a in units.get(b, ()))


def test_library_folders_import_each_other_one_way_only():
    units = _unit_graph(_graph("radlite"))
    assert {"radlite.tasks", "radlite.rules", "radlite.routing", "radlite.inference", "radlite.review",
            "radlite.export", "radlite.timeline"} <= set(units)
    assert _two_way(units) == []


#: The floors of the library, bottom to top (docs/architecture.md): a module imports only from its own
#: floor or the floors below. A unit is a folder inside radlite/ or a top-level module (see ``_unit``).
FLOORS = (
    ("radlite", "radlite.text", "radlite.evidence", "radlite.hashing", "radlite.errors", "radlite.tempdirs",
     "radlite.registry", "radlite.columns"),
    ("radlite.report", "radlite.rejects", "radlite.chexpert", "radlite.rads_formulas", "radlite.withholding",
     "radlite.confidence", "radlite.calibration"),
    ("radlite.tasks",),
    ("radlite.tables", "radlite.io", "radlite.store", "radlite.catalog_views"),
    ("radlite.prompts",),
    ("radlite.rules", "radlite.evidence_support"),
    ("radlite.inference",),
    ("radlite.kinds",),
    ("radlite.routing",),
    ("radlite.review", "radlite.export", "radlite.timeline", "radlite.query"),
    ("radlite.doctor",),
)


def _floor(module: str) -> int:
    unit = _unit(module)
    return next(i for i, units in enumerate(FLOORS) if unit in units)


def _upward(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Module imports that reach a higher floor: (importing module, imported module)."""
    return sorted((m, i) for m, imported in graph.items() for i in imported if _floor(i) > _floor(m))


def test_every_library_unit_stands_on_a_floor():
    units = {_unit(m) for m in _graph("radlite")}
    assert units - set().union(*FLOORS) == set(), "add the new module or folder to FLOORS (and docs/architecture.md)"


def test_no_library_module_imports_from_a_floor_above_its_own():
    assert _upward(_graph("radlite")) == []


def test_the_floor_check_catches_the_report_importing_the_timeline():
    graph = {"radlite.report": {"radlite.timeline.dates", "radlite.text.sections"},
             "radlite.timeline.dates": set(), "radlite.text.sections": set()}
    assert _upward(graph) == [("radlite.report", "radlite.timeline.dates")]


def test_the_two_way_check_finds_a_tie():
    graph = {"radlite.a.x": {"radlite.b.y"}, "radlite.b.y": {"radlite.a.z"}, "radlite.a.z": set()}
    assert _two_way(_unit_graph(graph)) == [("radlite.a", "radlite.b")]
