"""The floors of DESIGN.md hold: the domain never imports the layers above it, and no module
imports itself back through others (type-only imports count: they are arrows all the same)."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = SRC / "cubby"
UPPER_FLOORS = ("cubby.api", "cubby.web", "cubby.mcp", "cubby.cli", "cubby.server", "cubby.app")
LOWER_FLOORS = ("cubby.core", "cubby.backends")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    modules = {_module_name(path): path for path in PACKAGE.rglob("*.py")}
    arrows: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    targets.add(full if full in modules else node.module)
            elif isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
        arrows[name] = {target for target in targets if target in modules and target != name}
    return arrows


def _under(module: str, floors: tuple[str, ...]) -> bool:
    return any(module == floor or module.startswith(floor + ".") for floor in floors)


def test_the_domain_imports_no_upper_floor() -> None:
    wrong = sorted(
        f"{source} -> {target}"
        for source, targets in _imports().items()
        if _under(source, LOWER_FLOORS)
        for target in targets
        if _under(target, UPPER_FLOORS)
    )
    assert wrong == []


def test_no_import_circles() -> None:
    arrows = _imports()
    circles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(arrows[module]):
            if state.get(target) == 1:
                circles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(arrows):
        if module not in state:
            visit(module)
    assert circles == []
