"""The house's shape: no import cycle in assistant/ or eval/ (issue 18), and the wings import only downwards (issue 27),
counting deferred (function-level) and type-only imports; no function over 60 lines."""

from __future__ import annotations

import ast

from assistant.settings import PROJECT_ROOT


def _module_graph() -> dict[str, set[str]]:
    """Each module of assistant/ and eval/ → the modules of those packages it imports, wherever the import is."""
    modules = {}
    for package in ("assistant", "eval"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(PROJECT_ROOT).with_suffix("").parts).removesuffix(".__init__")
            modules[name] = path
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                targets = [f"{module}.{alias.name}" for alias in node.names] + [module]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            found = next((t for t in targets if t in modules), None)
            if found and found != name:
                graph[name].add(found)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_counting_deferred_and_type_only_imports() -> None:
    graph = _module_graph()
    assert "assistant.chat.conversation" in graph and "assistant.api" in graph["assistant.serve.service"], "the walk sees imports"
    assert _cycles(graph) == []


# The wings in data-flow order (issue 27, STYLE.md "The layout"): a module imports only from its own wing or a lower
# one. serve sits above the facade because the UI and the HTTP API are clients of `Assistant`; the package's own
# __init__ (lazy exports) is the top.
WING_ORDER = ("root", "documents", "index", "answer", "chat", "api", "serve", "cli", "package")
ROOT_MODULES = {"errors", "schema", "settings"}  # what every wing stands on
TOP_MODULES = {"__init__", "api", "cli", *ROOT_MODULES}  # the only modules beside the wings


def wing_of(module: str) -> str:
    """The wing a module of assistant/ belongs to."""
    parts = module.split(".")
    if parts == ["assistant"]:
        return "package"
    if parts[1] in ROOT_MODULES:
        return "root"
    return parts[1]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Every import of assistant/ that reaches into a higher wing, as 'importer -> imported'."""
    rank = {wing: place for place, wing in enumerate(WING_ORDER)}
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items() if module.startswith("assistant")
        for target in targets if target.startswith("assistant") and rank[wing_of(target)] > rank[wing_of(module)]
    )


def test_the_wings_import_only_downwards() -> None:
    graph = _module_graph()
    assert {wing_of(m) for m in graph if m.startswith("assistant")} == set(WING_ORDER), "every wing has modules"
    assert upward_imports(graph) == []


def test_the_wing_check_finds_an_upward_import() -> None:
    graph = {"assistant.index.load": {"assistant.answer.compose", "assistant.schema"}, "assistant.api": {"assistant.chat.audit"}}
    assert upward_imports(graph) == ["assistant.index.load -> assistant.answer.compose"]


def test_only_the_facade_the_cli_and_the_shared_records_sit_beside_the_wings() -> None:
    top = {path.stem for path in (PROJECT_ROOT / "assistant").glob("*.py")}
    assert top == TOP_MODULES, f"put {sorted(top - TOP_MODULES)} in the wing of its stage"


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


MAX_FUNCTION_LINES = 60  # issue 18: long orchestration hides an untested core; split it into named steps


def long_functions(source: str, limit: int = MAX_FUNCTION_LINES) -> list[tuple[str, int]]:
    """(name, lines) of every function or method in `source` longer than `limit` lines, decorators not counted."""
    return [
        (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > limit  # type: ignore[operator]
    ]


def test_no_function_in_assistant_is_over_60_lines() -> None:
    found = {
        f"{path.relative_to(PROJECT_ROOT)}:{name}": lines
        for path in sorted((PROJECT_ROOT / "assistant").rglob("*.py"))
        for name, lines in long_functions(path.read_text(encoding="utf-8"))
    }
    assert not found, f"split these into named steps: {found}"


def test_the_length_check_counts_a_long_function() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    assert long_functions(f"def long():\n{body}\n") == [("long", MAX_FUNCTION_LINES + 1)]
    assert long_functions(f"def short():\n{body}\n", limit=MAX_FUNCTION_LINES + 1) == []
