"""The structural comparator used by the contract tests catches what it must."""

from contract_shape import compare, shape


def test_same_structure_passes():
    real = {
        "data": [{"spend": "1.5", "clicks": "3", "date_start": "2026-06-01"}],
        "paging": {"cursors": {"after": "x"}},
    }
    fake = {
        "data": [{"spend": "20.25", "clicks": "0", "date_start": "2026-01-31", "extra": 1}],
        "paging": {"cursors": {"after": "y"}},
    }
    assert compare(real, fake) == []


def test_number_written_differently_fails():
    assert compare({"data": [{"spend": "1.5"}]}, {"data": [{"spend": 1.5}]}) == [
        "kind differs at $.data[].spend: real ['str:decimal'] vs fake ['float']"
    ]


def test_missing_paging_fails_unless_optional():
    real = {"data": [], "paging": {"next": "https://x"}}
    assert compare(real, {"data": []}) == [
        "missing in fake: $.paging (object)",
        "missing in fake: $.paging.next (str:url)",
    ]
    assert compare(real, {"data": []}, optional=("$.paging*",)) == []


def test_date_formats_are_told_apart():
    assert shape("2026-06-01T09:00:00+0000") == {"$": {"str:datetime+0000"}}
    assert compare({"t": "2026-06-01T09:00:00+0000"}, {"t": "2026-06-01T09:00:00.000Z"}) != []
