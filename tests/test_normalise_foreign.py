"""Names from other languages: folded by default, or spoken in their language (`{lang: de}`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from narrate.errors import ConfigError
from narrate.settings.load import load_project
from narrate.text import is_silent, normalise
from narrate.text.foreign import LANG_SPAN, in_language, plain, to_ssml

RULE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _site(tmp_path: Path, lexicon: str) -> Path:
    config = tmp_path / "narrate.yaml"
    config.write_text(f"narrate: 1\nlexicon:\n{lexicon}", encoding="utf-8")
    return config


def test_a_lexicon_entry_may_give_a_language(tmp_path: Path) -> None:
    config = _site(tmp_path, "  Jürgen: {lang: de}\n  Ørsted: {lang: da, say: Örsted}\n")
    lexicon = load_project(config).lexicon
    assert lexicon == {"Jürgen": "⟦de|Jürgen⟧", "Ørsted": "⟦da|Örsted⟧"}
    assert normalise("Jürgen met Ørsted.", lexicon) == "⟦de|Jürgen⟧ met ⟦da|Örsted⟧."


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("  Jürgen: {lang: 'de x'}\n", "no language name"),
        ("  Jürgen: {say: Yurgen}\n", "needs lang:"),
        ("  Jürgen: {lang: de, voice: x}\n", "voice"),
        ("  Jürgen: {lang: de, say: '🎧'}\n", "cannot be said"),
    ],
)
def test_a_bad_language_entry_is_refused_at_its_line(
    tmp_path: Path, entry: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_project(_site(tmp_path, entry))
    assert caught.value.line == 3


def test_articles_cannot_forge_language_marks() -> None:
    assert normalise("a ⟦de|x⟧ b") == "a [de x] b"
    assert not LANG_SPAN.search(normalise("⟦de|Jürgen⟧"))


def test_ssml_escapes_the_text_and_switches_language_inside_one_document() -> None:
    text = normalise("Jürgen & Tom <3 München", {"Jürgen": in_language("de", "Jürgen")})
    assert to_ssml(text) == (
        '<speak><voice xml:lang="de">Jürgen</voice> and Tom less than 3 Munchen</speak>'
    )
    assert to_ssml("a < b") == "<speak>a &lt; b</speak>"


_WORD = st.from_regex(r"[A-Za-zäöüß]{1,12}", fullmatch=True)


@RULE
@given(words=st.lists(_WORD, min_size=1, max_size=6), lang=st.sampled_from(["de", "fr", "pt-br"]))
def test_marks_round_trip(words: list[str], lang: str) -> None:
    marked = " ".join(in_language(lang, w) for w in words)
    assert plain(marked) == " ".join(words)
    assert [m[1] for m in LANG_SPAN.finditer(marked)] == [lang] * len(words)
    assert not is_silent(marked)
    assert to_ssml(marked).count("<voice ") == len(words)


def test_espeak_speaks_the_name_in_german_in_one_reproducible_utterance() -> None:
    # In a fresh interpreter, as a worker is: a process whose engine was started by another
    # test (a voice listing, say) speaks in-process and is not reproducible.
    code = """
import hashlib
from narrate.settings.model import VoiceSettings
from narrate.synth.backends import create
backend = create("pyttsx3")
voice = VoiceSettings(backend="pyttsx3", voice="en-us", rate=150)
for text in ("⟦de|Jürgen⟧ Schmidhuber.", "⟦de|Jürgen⟧ Schmidhuber.", "Jurgen Schmidhuber.",
             "⟦fr|Jürgen⟧ Schmidhuber."):
    print(hashlib.sha256(backend.synthesise(text, voice).pcm).hexdigest())
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    german, again, folded, french = done.stdout.split()
    assert again == german  # each forked child speaks once
    assert german != folded
    assert german != french


def test_phonemes_read_a_marked_word_with_its_language() -> None:
    from narrate.lint import phonemes

    german, english = phonemes(["⟦de|Jürgen⟧ Schmidhuber", "Jurgen Schmidhuber"])
    assert german.startswith("jˈʏɾɡən ") and english.startswith("dʒˈɜːdʒən ")
