"""The `?page=` of a paginated list (the project page's integrations, the team overview's
projects), read the same way everywhere."""

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
