"""The lexicon changes what the voice gets, never the displayed text."""

from __future__ import annotations

from routinecast.lexicon import Lexicon, builtin_lexicon


def test_builtin_words_are_respelled_whole_words_only() -> None:
    lex = Lexicon()
    assert "psoas" in dict(builtin_lexicon())
    assert lex.apply("Release the psoas.") == "Release the so-az."
    assert lex.apply("Psoas first") == "so-az first"
    assert lex.apply("psoasx stays") == "psoasx stays"


def test_routine_entries_win_and_multiword_entries_match() -> None:
    lex = Lexicon([("psoas", "SO-ass"), ("glute med", "glute medius")])
    assert lex.apply("psoas and glute med") == "SO-ass and glute medius"
    assert "tensor FASH" in lex.apply("the tensor fasciae latae")
