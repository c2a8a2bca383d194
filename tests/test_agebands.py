import pytest

from childguard import AgeBand, InvalidAgeError
from childguard.agebands import band_for_age, parse_age


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
