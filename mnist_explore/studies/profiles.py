"""The one way a study is sized: a frozen settings dataclass whose field defaults are the
``default`` profile, and a ``PROFILES`` table of overrides for ``quick`` and ``full``.

    settings = model_search.Settings.profile("quick", seeds=(0, 1, 2))

``quick`` is for CI (seconds), ``default`` is what ``make figures`` and the committed
notebooks run on a 2-core CPU, and ``full`` is the size a GPU affords. A profile a
study leaves out of its table is the same as ``default``.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, TypeVar

from ..errors import UserError

PROFILE_NAMES = ("quick", "default", "full")

S = TypeVar("S", bound="StudySettings")


def check_profile(name: str) -> str:
    """``name`` when it is a profile, else a UserError listing the profiles."""
    if name not in PROFILE_NAMES:
        raise UserError(f"Unknown profile {name!r}: choose one of {', '.join(PROFILE_NAMES)}.")
    return name


@dataclass(frozen=True)
class StudySettings:
    """Base of every study's ``Settings``: the ``profile`` constructor and a ``check`` run on creation."""

    PROFILES: ClassVar[dict[str, dict]] = {}

    @classmethod
    def profile(cls: type[S], name: str = "default", **overrides) -> S:
        """The settings of profile ``name``, with ``overrides`` (field=value) applied on top.

        Parameters
        ----------
        name
            ``quick``, ``default`` or ``full``.
        **overrides
            Field values to change; an unknown field is refused with the list of fields.
        """
        check_profile(name)
        known = [f.name for f in fields(cls)]
        unknown = [k for k in overrides if k not in known]
        if unknown:
            raise UserError(f"{cls.__module__.rsplit('.', 1)[-1]} has no setting {', '.join(map(repr, unknown))}: "
                            f"choose from {', '.join(known)}.")
        return cls(**{**cls.PROFILES.get(name, {}), **overrides})

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise a UserError for a value out of range; studies override it."""
