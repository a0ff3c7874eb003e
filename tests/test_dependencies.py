"""App dependencies point one way: supportdesk <- apikeys <- sessions_app <- chat <- agents
<- teams, and webhooks (side by side at the top)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lower first: a module may import its own layer and the ones before it, never after it.
LAYERS = [
    "supportdesk",
    "apikeys",
    "sessions_app",
    "chat",
    "notifications",
    "agents",
    "teams",
    "webhooks",
]
# The project's composition root wires every app together (URLs, ASGI routing, health
# checks, Celery autodiscovery): it sits on top, not at the bottom, of the layers.
COMPOSITION_ROOT = {
    "supportdesk/asgi.py",
    "supportdesk/urls.py",
    "supportdesk/routing.py",
    "supportdesk/health.py",
    "supportdesk/settings.py",
    "supportdesk/test_settings.py",
    "supportdesk/celery.py",
}


def _imported_packages(tree: ast.AST) -> list[tuple[int, str]]:
    """Every (line, top-level package) imported anywhere in the module, functions included."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value.split(".")[0]))
    return found


def _modules(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = path.relative_to(ROOT)
        # Tests may exercise the whole stack; migrations are generated from the models.
        if {"tests", "migrations"} & set(relative.parts[1:-1]):
            continue
        if relative.as_posix() in COMPOSITION_ROOT:
            continue
        yield relative, ast.parse(path.read_text(), filename=str(relative))


def upward_imports() -> list[str]:
    """Return 'file:line imports package' for every import of a higher layer."""
    problems = []
    for rank, package in enumerate(LAYERS):
        higher = set(LAYERS[rank + 1 :])
        for relative, tree in _modules(package):
            for line, imported in _imported_packages(tree):
                if imported in higher:
                    problems.append(f"{relative}:{line} imports {imported}")
    return problems


def test_no_app_imports_a_higher_app():
    assert upward_imports() == []


def test_the_check_sees_imports_inside_functions():
    tree = ast.parse("def f():\n    from agents.services import reply_schedule\n")
    assert _imported_packages(tree) == [(2, "agents")]
