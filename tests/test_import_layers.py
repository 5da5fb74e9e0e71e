"""No import cycles between the packages of cargotrace (ingest, maritime, logistics, ...).

Every import counts, at module level or inside a function (a late import hides a cycle from
Python, not from the design); a top-level module (settings.py, stage.py, ...) is a package
of its own. `stage.py` imports nothing of cargotrace outside type checking.
"""

from __future__ import annotations

import ast
from pathlib import Path

import cargotrace

ROOT = Path(cargotrace.__file__).parent


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module:
                found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
    return {name for name in found if name.split(".")[0] == "cargotrace"}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "cargotrace"


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        source = _package(_module(path))
        targets = {_package(name) for name in _imports(path)}
        graph.setdefault(source, set()).update(targets - {source, "cargotrace"})
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def test_no_import_cycles_between_packages() -> None:
    assert cycles(package_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_stage_module_imports_nothing_of_cargotrace_at_run_time() -> None:
    tree = ast.parse((ROOT / "stage.py").read_text(encoding="utf-8"))
    top_level = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert all(not (getattr(n, "module", "") or "").startswith("cargotrace") for n in top_level)


def test_the_pipeline_and_the_spark_job_do_not_import_each_other() -> None:
    pipeline = _imports(ROOT / "analysis" / "pipeline.py")
    spark_job = _imports(ROOT / "engine" / "spark_job.py")
    assert not any(name.startswith("cargotrace.engine") for name in pipeline)
    assert "cargotrace.analysis.pipeline" not in spark_job
    assert not any(name.startswith("cargotrace.report") for name in pipeline)


def _ingest_module_graph() -> dict[str, set[str]]:
    """Modules of `cargotrace.ingest` and the ingest modules each imports (`a.b.name` imports
    count as the module `a.b`)."""
    raw = {_module(p): _imports(p) for p in (ROOT / "ingest").rglob("*.py")}

    def owner(name: str) -> str:
        while name and name not in raw:
            name = name.rpartition(".")[0]
        return name

    return {
        module: {owner(n) for n in names if owner(n) not in ("", module, "cargotrace.ingest")}
        for module, names in raw.items()
    }


def test_no_import_cycles_between_ingest_modules() -> None:
    graph = _ingest_module_graph()
    assert "cargotrace.ingest.types" in graph
    assert cycles(graph) == []


def test_readers_and_shared_types_import_no_kind_and_no_loader() -> None:
    """Layers of ingest: readers (files -> raw text) < types < loader < kinds < registry."""
    graph = _ingest_module_graph()
    for module, targets in graph.items():
        if module.startswith("cargotrace.ingest.readers."):
            assert all(t.startswith("cargotrace.ingest.readers.") for t in targets), module
    assert all(t.startswith("cargotrace.ingest.readers.") for t in graph["cargotrace.ingest.types"])
