"""Check characters of Chinese registration codes (shared/domain: facts beyond the call)."""

from __future__ import annotations

import re

# GB 32100-2015: the unified social credit code uses 31 characters (no I, O, Z, S, V).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_PATTERN = re.compile(f"[{USCC_ALPHABET}]{{18}}")


def uscc_well_formed(code: str) -> bool:
    """18 characters from the code's alphabet (says nothing of the check character)."""
    return USCC_PATTERN.fullmatch(code) is not None


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_valid(code: str) -> bool:
    return uscc_well_formed(code) and uscc_check_char(code[:17]) == code[17]


def uscc_division(code: str) -> str:
    """Administrative division of the registering authority (positions 3-8)."""
    return code[2:8]
