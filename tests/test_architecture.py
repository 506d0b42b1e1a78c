"""The house has one direction: a module imports only from lower layers, with no cycles
and no private names taken across modules.

Layers, lowest first (a module may import from its own package and from lower layers)::

    model                      plain data: area, config, problem, matrices, plan, errors
    io, data, engine           files -> model; the routing kernel
    planning                   network, covering, solve, checker
    render                     plan -> files (map, PDFs, workbook, calendars)
    runs                       one planning run end to end
    compare, workspace         scenarios; the workspace database
    cli, app                   the terminal and the web app
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

PKG = Path(__file__).resolve().parents[1] / "planner"

RANK = {
    "model": 0,
    "io": 1,
    "data": 1,
    "engine": 1,
    "planning": 2,
    "render": 3,
    "runs": 4,
    "comparison": 5,
    "workspace": 5,
    "cli": 6,
    "app": 6,
    "__main__": 7,
}


def module_name(path: Path, pkg: Path = PKG) -> str:
    rel = path.relative_to(pkg.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names taken, line) for every planner import, local ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("planner"):
            out.append((node.module, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            out.extend((a.name, [], node.lineno) for a in node.names if a.name.startswith("planner"))
    return out


def modules(pkg: Path = PKG) -> dict[str, Path]:
    return {module_name(p, pkg): p for p in pkg.rglob("*.py")}


def layer(mod: str) -> str:
    parts = mod.split(".")
    return parts[1] if len(parts) > 1 else ""


def graph(pkg: Path = PKG) -> nx.DiGraph:
    mods = modules(pkg)
    g = nx.DiGraph()
    g.add_nodes_from(mods)
    for mod, path in mods.items():
        for target, names, _ in imports_of(path):
            # `from planner.x import y` where y is a submodule is an edge to planner.x.y
            for n in names or [""]:
                full = f"{target}.{n}" if n and f"{target}.{n}" in mods else target
                if full in mods and full != mod:
                    g.add_edge(mod, full)
    return g


def test_every_package_has_a_layer():
    unknown = {layer(m) for m in modules() if m != "planner"} - set(RANK)
    assert not unknown, f"modules outside the known layers: {sorted(unknown)}; give them a rank in this test"


def cycles(pkg: Path = PKG) -> list[list[str]]:
    # the package facade re-exports its modules lazily; edges through it are not cycles of code
    return [c for c in nx.simple_cycles(graph(pkg)) if "planner" not in c]


def upward_imports(pkg: Path = PKG) -> list[str]:
    bad = []
    for mod, path in modules(pkg).items():
        if mod == "planner":
            continue
        here = layer(mod)
        for target, _, line in imports_of(path):
            there = layer(target)
            if there == here or there == "":
                if there == "" and target == "planner":
                    bad.append(f"{mod}:{line} imports the package facade 'planner'")
                continue
            if RANK[there] >= RANK[here]:
                bad.append(f"{mod}:{line} ({here}, rank {RANK[here]}) imports {target} ({there}, rank {RANK[there]})")
    return bad


def test_no_import_cycles():
    found = cycles()
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(c + [c[0]]) for c in found)


def test_imports_point_down_the_layers():
    bad = upward_imports()
    assert not bad, "imports that point up or sideways:\n" + "\n".join(bad)


def test_no_private_names_across_modules():
    bad = []
    for mod, path in modules().items():
        for target, names, line in imports_of(path):
            if target == mod:
                continue
            bad += [f"{mod}:{line} imports {target}.{n}" for n in names if n.startswith("_") and n != "__version__"]
    for path in (PKG.parent / "tests").glob("*.py"):
        for target, names, line in imports_of(path):
            bad += [f"tests/{path.name}:{line} imports {target}.{n}" for n in names if n.startswith("_")]
    for path in (PKG.parent / "benchmarks").glob("*.py"):
        for target, names, line in imports_of(path):
            bad += [f"benchmarks/{path.name}:{line} imports {target}.{n}" for n in names if n.startswith("_")]
    assert not bad, "private names used outside their module:\n" + "\n".join(bad)


def test_architecture_test_catches_a_cycle_and_an_upward_import(tmp_path):
    """The checks can fail: a hand-made package whose model imports planning (and back) trips both."""
    pkg = tmp_path / "planner"
    for sub in ("model", "planning"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "model" / "a.py").write_text("def f():\n    from planner.planning.b import g\n")
    (pkg / "planning" / "b.py").write_text("from planner.model.a import f\n")
    assert cycles(pkg) == [["planner.model.a", "planner.planning.b"]] or cycles(pkg) == [
        ["planner.planning.b", "planner.model.a"]
    ]
    assert upward_imports(pkg) == ["planner.model.a:2 (model, rank 0) imports planner.planning.b (planning, rank 2)"]


def test_public_api():
    import planner

    for name in ("load_area", "load_config", "build_problem", "solve", "violations", "write_outputs", "compare"):
        fn = getattr(planner, name)
        assert callable(fn)
        assert fn.__doc__ and "Parameters" in fn.__doc__ and "Returns" in fn.__doc__, (
            f"{name} needs a numpy-style docstring"
        )
