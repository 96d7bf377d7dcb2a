"""The closed skill taxonomy (service kinds named in the centres' reports).

Skills are held as bits of a uint64 mask so that "holds every required skill" is one
vectorised ``(have & need) == need``. The taxonomy is closed: unknown codes are rejected
at the API edge, which catches typos that would otherwise silently match no one.
"""

from __future__ import annotations

from collections.abc import Iterable
from types import MappingProxyType

import numpy as np

from matcher.core.arrays import U8, U64

#: code -> (English name, Chinese name). Order fixes the bit positions: append only.
SKILLS: MappingProxyType[str, tuple[str, str]] = MappingProxyType(
    {
        "theory_lecture": ("theory lectures", "理论宣讲"),
        "policy_explanation": ("policy explanation", "政策宣传"),
        "art_performance": ("art performance", "文艺演出"),
        "tutoring": ("tutoring", "助学"),
        "disability_assistance": ("disability assistance", "助残"),
        "ecological_protection": ("ecological protection", "生态环保"),
        "custom_reform": ("custom reform (frugal weddings and funerals)", "移风易俗"),
        "community_service": ("community service", "社区服务"),
        "skills_training": ("skills training", "技能培训"),
        "elderly_care": ("home elderly care", "居家养老"),
        "cleaning": ("cleaning", "清洁家园"),
        "help_the_weak": ("help for the weak", "扶弱助残"),
        "epidemic_prevention": ("epidemic prevention", "疫情防控"),
        "calligraphy": ("calligraphy", "书法"),
        "folk_handicraft": ("folk handicraft", "民俗手工"),
        "square_dance": ("square dance teaching", "广场舞"),
        "fire_safety": ("fire safety training", "消防安全"),
        "reading_promotion": ("reading promotion", "全民阅读"),
        "film_screening": ("public-interest film screening", "公益电影"),
        "live_stream": ("online live-stream sessions", "线上直播"),
    }
)

SKILL_CODES: tuple[str, ...] = tuple(SKILLS)
SKILL_BIT: MappingProxyType[str, int] = MappingProxyType(
    {code: i for i, code in enumerate(SKILL_CODES)}
)
N_SKILLS = len(SKILL_CODES)
assert N_SKILLS <= 64, "skill masks are uint64"
#: ``SKILL_BITS[i]`` is the mask of skill ``i`` alone.
SKILL_BITS: U64 = np.left_shift(np.uint64(1), np.arange(N_SKILLS, dtype=np.uint64))


def skill_mask(codes: Iterable[str]) -> np.uint64:
    """The bit mask of known skill codes (raises KeyError on an unknown code)."""
    mask = 0
    for code in codes:
        mask |= 1 << SKILL_BIT[code]
    return np.uint64(mask)


def held_masks(levels: U8) -> U64:
    """The mask of each row of a (rows, N_SKILLS) level matrix: the skills above level 0."""
    out: U64 = ((levels > 0) * SKILL_BITS).sum(axis=1, dtype=np.uint64)
    return out


def mask_codes(mask: int) -> list[str]:
    """The skill codes set in ``mask``, in taxonomy order."""
    return [code for i, code in enumerate(SKILL_CODES) if (int(mask) >> i) & 1]
