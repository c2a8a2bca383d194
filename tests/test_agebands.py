import itertools

import pytest

from childguard import AgeBand, InvalidAgeError
from childguard.agebands import band_for_age
from childguard.inputs import parse_age


@pytest.mark.parametrize(
    ("age", "band"),
    [(0, "0-5"), (5, "0-5"), (6, "6-9"), (9, "6-9"), (10, "10-12"), (12, "10-12"), (13, "13-15"),
     (15, "13-15"), (16, "16-17"), (17, "16-17"), (18, "adult"), (130, "adult")],
)
def test_aadc_band_edges(age: int, band: str) -> None:
    assert band_for_age(age) == AgeBand(band)


@pytest.mark.parametrize("value", ["10", " 10 ", 10.0, "10-12", AgeBand.TRANSITION])
def test_accepted_spellings(value: object) -> None:
    assert parse_age(value, AgeBand.ADULT) == AgeBand.TRANSITION


def test_none_uses_default() -> None:
    assert parse_age(None, AgeBand.EARLY_PRIMARY) == AgeBand.EARLY_PRIMARY


@pytest.mark.parametrize("value", [-1, 300, "ten", "", True, 9.5, [10], "7-11"])
def test_unknown_ages_are_refused(value: object) -> None:
    with pytest.raises(InvalidAgeError) as err:
        parse_age(value, AgeBand.ADULT)
    assert "age" in str(err.value)


def test_band_facts_tile_the_ages_youngest_first() -> None:
    from childguard.agebands import band_table

    facts = list(band_table().facts.values())
    assert [f.band for f in facts] == list(AgeBand)
    assert facts[0].min_age == 0 and all(a.max_age + 1 == b.min_age for a, b in itertools.pairwise(facts))
    assert [f.max_reading_grade for f in facts] == sorted(f.max_reading_grade for f in facts)
    assert all(f.answer_style for f in facts)


def test_a_data_file_that_disagrees_with_the_enum_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from childguard import agebands
    from childguard.errors import ConfigError

    good = agebands.load_yaml_resource("agebands.yaml")
    gap = {**good, "bands": [dict(b, min_age=7) if b["id"] == "6-9" else b for b in good["bands"]]}  # type: ignore[attr-defined]
    for bad, words in (({**good, "bands": good["bands"][:-1]}, "must list exactly"),  # type: ignore[index]
                       (gap, "without gaps"), ({"bands": [{"id": "0-5"}]}, "malformed")):
        monkeypatch.setattr(agebands, "load_yaml_resource", lambda _n, bad=bad: bad)
        agebands.band_table.cache_clear()
        with pytest.raises(ConfigError, match=words):
            agebands.band_table()
    monkeypatch.undo()
    agebands.band_table.cache_clear()
    assert agebands.band_table().facts[AgeBand.ADULT].min_age == 18


@pytest.mark.parametrize(("value", "band"), [(0, "0-5"), ("17", "16-17"), ("10-12", "10-12")])
def test_child_band_parsing(value: object, band: str) -> None:
    from childguard.inputs import parse_child_band

    assert parse_child_band(value) == AgeBand(band)


@pytest.mark.parametrize("value", [18, "adult", "18+", "ten"])
def test_child_band_parsing_refuses_adults_and_nonsense(value: object) -> None:
    from childguard.inputs import parse_child_band

    with pytest.raises(InvalidAgeError):
        parse_child_band(value)
