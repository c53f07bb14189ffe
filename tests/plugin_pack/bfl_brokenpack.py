"""A node pack whose import fails, as a pack with a missing dependency would."""

from __future__ import annotations

raise ImportError("bfl_brokenpack needs the package 'no-such-dependency'")
