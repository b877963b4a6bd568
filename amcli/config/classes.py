"""The demo classes, shared by the schemas that default to them."""

from __future__ import annotations

#: The demo classes, in the order every checkpoint stores them.
DEFAULT_CLASSES = ["neutral", "happy", "sad", "angry"]

