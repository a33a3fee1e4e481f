"""Text from people and from Qonversion, made safe to show: no invisible characters
that change how the text around them reads.

Bidirectional controls (e.g. U+202E RIGHT-TO-LEFT OVERRIDE) make "safe\u202egnp.exe" read
as "safeexe.png". Forms refuse them; text from Qonversion shows them as a visible mark.
"""

from django import forms

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_bidi_controls(text: str) -> bool:
    return any(character in BIDI_CONTROLS for character in text)


def reveal_bidi_controls(text: str) -> str:
    """`text` with each bidirectional control replaced by a visible mark such as [U+202E]."""
    if not has_bidi_controls(text):
        return text
    return "".join(f"[U+{ord(c):04X}]" if c in BIDI_CONTROLS else c for c in text)


def no_invisible_controls(value: str) -> None:
    """Form validator: no line breaks, tabs, other control characters or bidi controls."""
    if any(ord(character) < 32 or ord(character) == 127 for character in value):
        raise forms.ValidationError("Use letters, digits, spaces and punctuation only (no line breaks or tabs).")
    if has_bidi_controls(value):
        raise forms.ValidationError(
            "Remove the invisible direction marks (such as U+202E): they make text read differently than it is."
        )
