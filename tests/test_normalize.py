from childguard.normalize import normalize


def test_leetspeak_is_undone_but_numbers_stay() -> None:
    n = normalize("k1ll yourself, call 07700 900123")
    assert "kill" in n.text
    assert "07700 900123" in n.text
    assert "leetspeak" in n.obfuscations


def test_spaced_letters_are_joined() -> None:
    n = normalize("s e n d  n u d e s")
    assert "send nudes" in n.text
    assert "spaced_letters" in n.obfuscations


def test_zero_width_and_controls_removed() -> None:
    n = normalize("ki\u200bll\x00 \x07you")
    assert n.text == "kill you"
    assert "zero_width" in n.obfuscations


def test_homoglyphs_in_latin_words_only() -> None:
    assert normalize("kіll").text == "kill"  # Cyrillic і inside a Latin word
    assert normalize("привет").text == "привет"  # real Russian is untouched


def test_styled_unicode_letters() -> None:
    n = normalize("𝓴𝓲𝓵𝓵 𝔂𝓸𝓾")
    assert n.text == "kill you"


def test_plain_text_reports_no_obfuscation() -> None:
    n = normalize("Can you help me with my homework?")
    assert n.text == "can you help me with my homework?"
    assert not n.obfuscated


def test_repeats_collapsed() -> None:
    assert normalize("soooooo saaaad").text == "soo saad"


def test_sentence_punctuation_is_not_leetspeak() -> None:
    n = normalize("hello! i won!! that was 100% fun")
    assert n.text == "hello! i won!! that was 100% fun"
    assert not n.obfuscated
    assert normalize("k!ll yourself").text == "kill yourself"
