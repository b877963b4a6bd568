"""Old option spellings that keep working: rewritten before Hydra sees the command line, with a
note on stderr naming the new spelling."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence


def split_override(arg: str) -> tuple[str, str, str]:
    """'+key=value' -> ('+', 'key', 'value'); flags give ('', '', '')."""
    if arg.startswith("-") or "=" not in arg:
        return "", "", ""
    key, _, value = arg.partition("=")
    prefix = re.match(r"[+~]*", key).group(0)
    return prefix, key[len(prefix):], value


def rewrite_aliases(args: Sequence[str], aliases: dict[str, str], command: str) -> list[str]:
    """``args`` with every key whose first part is in ``aliases`` (old -> new) renamed."""
    rewritten = []
    for arg in args:
        prefix, key, value = split_override(arg)
        root = key.split(".")[0]
        if root in aliases:
            new = aliases[root] + key[len(root):]
            print(f"amcli {command}: note: {key}= is now {new}= (the old spelling still works)",
                  file=sys.stderr)
            arg = f"{prefix}{new}={value}"
        rewritten.append(arg)
    return rewritten
