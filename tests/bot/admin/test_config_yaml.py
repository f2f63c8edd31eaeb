"""``/config import``'s file: its structure is read or refused with ``ConfigFileError`` whose
mistakes are catalogue messages in both languages, never another exception; nothing is applied
before the whole file is read."""

from __future__ import annotations

import time

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.admin.config_yaml import ConfigFile, ConfigFileError, read_config
from bot.core import load_catalogue
from tests.properties import FUZZ, numberish, words

T = load_catalogue()
KEYS = ("version", "big_deal_threshold", "close_date_days", "digest_at", "escalate_after_min",
        "control_tasks", "working_hours", "other_messenger_after_min",
        "stale", "supervisors", "defaults_off", "subscriptions", "status", "days", "group",
        "users", "id", "rule", "lang", "pipeline")  # fmt: skip
leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), numberish,
                 words)  # fmt: skip
document = st.recursive(
    leaf,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=20,
)


def read(text: str) -> ConfigFile | None:
    problems: list[tuple[str, dict[str, object]]] = []
    try:
        return read_config(text)
    except ConfigFileError as exc:
        problems = exc.problems
    assert problems
    for code, params in problems:
        for lang in ("ru", "en"):
            assert T(lang, code, **params)
    return None


@FUZZ
@given(document)
def test_any_yaml_document_is_a_config_or_explained_mistakes(value: object) -> None:
    read(yaml.safe_dump(value, allow_unicode=True))


@FUZZ
@given(st.text(max_size=400))
def test_any_text_is_a_config_or_explained_mistakes(text: str) -> None:
    read(text)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 50_000,  # nested past MAX_DEPTH (PyYAML recurses per level)
        "big_deal_threshold: " + "9" * 5000,  # int() refuses 4,300+ digits
        "big_deal_threshold: 99999999999999999999",
        "digest_at: \x00",
        "version: !!python/object/apply:os.system ['true']",
        "? [a]\n: b",
    ],
)
def test_the_corpus_files_are_refused_with_a_reason(text: str) -> None:
    assert read(text) is None


def test_a_billion_laughs_file_is_refused_without_being_expanded() -> None:
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 9):
        prev, name = chr(ord("a") + n - 1), chr(ord("a") + n)
        levels.append(f"{name}: &{name} [{', '.join(f'*{prev}' for _ in range(9))}]")
    text = "\n".join([*levels, "stale: *i", "digest_at: *i"])
    started = time.monotonic()
    with pytest.raises(ConfigFileError) as refused:
        read_config(text)
    assert time.monotonic() - started < 5  # 9^9 items were never turned into text
    assert all(len(str(params.get("value", ""))) <= 40 for _, params in refused.value.problems)
