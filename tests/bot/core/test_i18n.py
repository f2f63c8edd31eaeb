"""The catalogue: every message in both languages, with the same placeholders; every key the
code builds at run time exists."""

from __future__ import annotations

import string
from typing import get_args

import pytest

from bot.chat.commands import MENU
from bot.core.i18n import LANGUAGES, as_lang, load_catalogue
from bot.people.code_linking import LinkStep
from bot.reports.log import Activity, Notice, Press, TaskChange
from bot.tasks.cards import SNOOZE_CHOICES
from bot.tasks.outcomes import Outcome

CATALOGUE = load_catalogue()


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(CATALOGUE.keys()))
def test_every_message_has_both_languages_with_the_same_placeholders(key: str) -> None:
    texts = [CATALOGUE.raw(key, lang) for lang in LANGUAGES]
    assert all(t.strip() for t in texts)
    assert placeholders(texts[0]) == placeholders(texts[1])


def test_every_key_built_at_run_time_exists() -> None:
    built = (
        [f"link_{step.value}" for step in LinkStep]
        + [f"action_{o.value}" for o in Outcome]
        + [f"btn_snooze_{c}" for c in SNOOZE_CHOICES]
        + [f"via_{v}" for v in ("telegram", "slack", "amocrm")]
        + [f"heading_{k}" for k in ("completed", "deleted", "deadline", "reassigned")]
        + [f"outcome_{k}" for k in ("completed", "deleted", "deadline", "reassigned")]
        + [f"cmd_{name}" for name in MENU]
        + ["action_stale"]
        + [f"activity_{w}" for w in (*get_args(Notice), *get_args(Press), *get_args(TaskChange))]
        + ["activity_escalated"]
        + [f"xlsx_event_{k}" for k in get_args(Activity.model_fields["kind"].annotation)]
        + [f"xlsx_subject_{k}" for k in ("task", "deal")]
    )
    known = CATALOGUE.keys()
    assert not [key for key in built if key not in known]


def test_language_codes_fold_to_ours() -> None:
    assert as_lang("en-US") == "en"
    assert as_lang("ru") == "ru"
    assert as_lang("de") == "ru"
    assert as_lang(None, "en") == "en"
