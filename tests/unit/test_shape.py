"""The shape README's Development section promises, kept by a test: short files and
functions, feature packages that do not import each other, no import circles."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FEATURES = sorted(
    p.name for p in (ROOT / "handlers").iterdir() if p.is_dir() and (p / "__init__.py").exists()
)


def modules(folder: str) -> dict[str, ast.Module]:
    found = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        found[name] = ast.parse(path.read_text(encoding="utf-8"))
    return found


def imports(tree: ast.Module) -> set[str]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def test_no_handler_file_over_400_lines() -> None:
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "handlers").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}


def test_no_function_over_80_lines_in_handlers_or_bot() -> None:
    long = []
    for folder in ("handlers", "bot"):
        for name, tree in modules(folder).items():
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    size = (node.end_lineno or node.lineno) - node.lineno + 1
                    if size > 80:
                        long.append(f"{name}.{node.name}: {size}")
    assert long == []


def test_feature_packages_do_not_import_each_other() -> None:
    assert {"accounts", "common", "registration", "settings", "staff"} <= set(FEATURES)
    crossing = []
    for name, tree in modules("handlers").items():
        parts = name.split(".")
        if len(parts) < 3 or parts[1] == "common":
            continue
        own = parts[1]
        for target in imports(tree):
            bits = target.split(".")
            feature = bits[1] if bits[0] == "handlers" and len(bits) > 1 else None
            if feature in FEATURES and feature not in (own, "common"):
                crossing.append(f"{name} → {target}")
    assert crossing == []


def test_common_imports_no_feature() -> None:
    bad = [
        f"{name} → {target}"
        for name, tree in modules("handlers/common").items()
        for target in imports(tree)
        if target.split(".")[0] == "handlers"
        and len(target.split(".")) > 1
        and target.split(".")[1] not in ("common",)
    ]
    assert bad == []


def test_no_import_circles_among_handler_modules() -> None:
    graph = {
        name: {t for t in imports(tree) if t in modules_cache}
        for name, tree in modules_cache.items()
    }
    seen: dict[str, int] = {}  # 1: on the path, 2: done
    cycles = []

    def visit(node: str, path: list[str]) -> None:
        seen[node] = 1
        for nxt in graph[node]:
            if seen.get(nxt) == 1:
                cycles.append(" → ".join([*path[path.index(nxt) :], nxt]))
            elif nxt not in seen:
                visit(nxt, [*path, nxt])
        seen[node] = 2

    for start in graph:
        if start not in seen:
            visit(start, [start])
    assert cycles == []


modules_cache = modules("handlers")
