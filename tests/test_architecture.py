"""The shape ARCHITECTURE.md draws, checked on the source: capability packages in layers, each
used from outside only through its ``__init__``, and a core that knows no messenger library.

Read from the AST, so a lazy import inside a function counts as much as one at the top.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first: a package may import itself and the packages before it, never one after it.
LAYERS = (
    "core",
    "store",
    "crm",
    "reports",
    "delivery",
    "people",
    "tasks",
    "alerts",
    "admin",
    "chat",
    "app",
)
PRODUCT = ("bot", "handlers", "integrations", "scheduler", "sandbox", "bench")
PLATFORM_LIBRARIES = ("aiogram", "slack_bolt", "slack_sdk")


def _python_files(*tops: str) -> Iterator[Path]:
    for top in tops:
        yield from sorted((ROOT / top).rglob("*.py"))


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    """Every module ``path`` imports (``from a.b import c`` gives ``a.b`` and ``a.b.c``)."""
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                if (ROOT / (candidate.replace(".", "/") + ".py")).exists():
                    yield node.lineno, candidate


def _package_of(path: Path) -> str | None:
    """The bot package a file belongs to (``bot/tasks/cards.py`` → ``tasks``)."""
    parts = path.relative_to(ROOT).parts
    return parts[1] if parts[0] == "bot" and len(parts) > 2 else None


def _where(path: Path, line: int) -> str:
    return f"{path.relative_to(ROOT)}:{line}"


def test_it_keeps_no_module_at_the_top_of_bot() -> None:
    loose = sorted(p.name for p in (ROOT / "bot").glob("*.py") if p.name != "__init__.py")
    assert loose == []
    packages = sorted(p.name for p in (ROOT / "bot").iterdir() if (p / "__init__.py").exists())
    assert packages == sorted(LAYERS)


def test_it_imports_only_downwards_between_packages() -> None:
    upward = []
    for path in _python_files("bot"):
        mine = _package_of(path)
        if mine is None:
            continue
        for line, module in _imports(path):
            parts = module.split(".")
            if parts[0] != "bot" or len(parts) < 2 or parts[1] not in LAYERS:
                continue
            if LAYERS.index(parts[1]) > LAYERS.index(mine):
                upward.append(f"{_where(path, line)}: {mine} imports {module}")
    assert upward == []


def _public(package: str) -> frozenset[str]:
    """The names a package's ``__init__`` offers (``__all__``)."""
    tree = ast.parse((ROOT / "bot" / package / "__init__.py").read_text("utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
        ):
            return frozenset(ast.literal_eval(node.value))
    return frozenset()


def test_it_uses_a_package_from_outside_only_through_its_init() -> None:
    private = []
    for path in _python_files(*PRODUCT):
        mine = _package_of(path)
        for line, module in _imports(path):
            parts = module.split(".")
            if parts[0] != "bot" or len(parts) < 3 or parts[1] == mine:
                continue
            if len(parts) == 3 and parts[2] in _public(parts[1]):
                continue  # a module the package offers as a whole (``bot.chat.commands``)
            private.append(f"{_where(path, line)}: {module}")
    assert private == []


def test_it_keeps_messenger_libraries_out_of_the_core() -> None:
    # Only the composition root builds the platforms' clients; every other package speaks the
    # core's own types, and handlers/ and integrations/ translate.
    found = [
        f"{_where(path, line)}: {module}"
        for path in _python_files("bot")
        if _package_of(path) != "app"
        for line, module in _imports(path)
        if module.split(".")[0] in PLATFORM_LIBRARIES
    ]
    assert found == []


def _stem(module: str) -> str:
    # reminders/reminding, alerts/alerting, links/link_guard: one word in two grammatical forms.
    word = module.split("_")[0]
    return re.sub(r"(ing|er|s)$", "", word)


@pytest.mark.parametrize("package", LAYERS)
def test_it_names_no_two_modules_of_a_package_by_one_word(package: str) -> None:
    modules = sorted(p.stem for p in (ROOT / "bot" / package).glob("*.py") if p.stem[0] != "_")
    stems: dict[str, list[str]] = {}
    for module in modules:
        stems.setdefault(_stem(module), []).append(module)
    assert [group for group in stems.values() if len(group) > 1] == []


@pytest.mark.parametrize("package", LAYERS)
def test_it_says_what_each_package_is_for(package: str) -> None:
    init = ROOT / "bot" / package / "__init__.py"
    assert ast.get_docstring(ast.parse(init.read_text("utf-8")))
