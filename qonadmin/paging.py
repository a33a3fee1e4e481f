"""The `?page=` of a paginated list (the project page's integrations, the team overview's
projects), read the same way everywhere, and which items a page shows."""

from dataclasses import dataclass

# A page number with more digits than this is past any last page; int() is never asked to
# read a long string.
_MAX_DIGITS = 9


def page_number(raw: str) -> int:
    """A whole number from 1, in ASCII digits. Anything else ("", "abc", "-1", "0", "2.5",
    "²") is page 1; a number longer than any list reads as 10⁹, past the last page, which
    the list then shows."""
    if not (raw.isascii() and raw.isdigit()):
        return 1
    digits = raw.lstrip("0")
    if not digits:
        return 1
    return int(digits) if len(digits) <= _MAX_DIGITS else 10**_MAX_DIGITS


@dataclass(frozen=True)
class PageSpan:
    """Page `number` of `pages` (at least 1), showing items `first` to `last` (1-based; 0
    and 0 when there are none)."""

    number: int
    pages: int
    first: int
    last: int


def page_span(total: int, requested: int, size: int) -> PageSpan:
    """The page shown for `requested` among `total` items, `size` a page: past the last,
    the last."""
    pages = max(1, -(-total // size))
    number = min(requested, pages)
    return PageSpan(
        number=number,
        pages=pages,
        first=min(total, (number - 1) * size + 1),
        last=min(total, number * size),
    )
