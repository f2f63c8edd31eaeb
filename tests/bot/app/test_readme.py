"""The README's configuration table names every setting amobridge reads."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from bot.app.settings import ENV_PREFIX, Settings


def _env_names() -> list[tuple[str, str]]:
    """(full variable name, the short form a table row may use after another of its section)."""
    names = []
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            for sub in section.model_fields:
                full = f"{ENV_PREFIX}{name.upper()}__{sub.upper()}"
                names.append((full, f"…__{sub.upper()}"))
        else:
            names.append((f"{ENV_PREFIX}{name.upper()}", f"{ENV_PREFIX}{name.upper()}"))
    return names


def test_every_setting_is_in_the_configuration_table() -> None:
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = [full for full, short in _env_names() if full not in table and short not in table]
    assert not missing, f"README's configuration table lacks {missing}"
