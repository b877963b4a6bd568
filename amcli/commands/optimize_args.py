"""``amcli optimize``'s command line before Hydra sees it: old spellings and misplaced options.

Each method's options exist only when that method is chosen (``mask.*`` with method=mask,
``signal.*`` with method=input, ``latent.*`` and ``prior=`` with method=latent), so Hydra would
refuse a misplaced one with an internal error; this says in one line which method it belongs
to. Old spellings keep working and say the new one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from amcli.am.methods import DEFAULT_METHOD, option_owners
from amcli.commands.aliases import rewrite_aliases, split_override
from amcli.errors import UserError
from amcli.resources import conf_dir

#: old key -> new key
ALIASES = {"condition": "latent.condition"}


def chosen_methods(args: Sequence[str]) -> set[str]:
    """The method(s) an argument list selects: method=a, a sweep method=a,b, or the default."""
    for arg in args:
        _, key, value = split_override(arg)
        if key == "method":
            value = re.sub(r"^\w+\((.*)\)$", r"\1", value)  # choice(a,b), glob(...)
            return {v.strip() for v in value.split(",") if v.strip()}
    return {DEFAULT_METHOD}


def prepare_args(args: Sequence[str]) -> list[str]:
    """Rewrite aliases (saying so on stderr) and refuse options of a method not chosen."""
    rewritten = rewrite_aliases(args, ALIASES, "optimize")
    methods = chosen_methods(rewritten)
    owners = option_owners()
    kept = []
    for arg in rewritten:
        _, key, value = split_override(arg)
        root = key.split(".")[0].split("@")[0]
        owner = owners.get(root)
        if owner is None:
            kept.append(arg)
            continue
        if key == root != owner and value == "none":  # a method's own config group
            if owner in methods:
                choices = sorted(p.stem for p in (conf_dir() / root).glob("*.yaml"))
                raise UserError(f"method={owner} needs {root}=: give "
                                f"{' or '.join(f'{root}={c}' for c in choices)}")
            continue  # the old default spelling: nothing to choose without the method
        if owner not in methods:
            raise UserError(f"{key}= is an option of method={owner}, not of "
                            f"method={','.join(sorted(methods))}; add method={owner} or drop "
                            f"{key}=")
        if len(methods) > 1:
            raise UserError(f"{key}= applies to method={owner} only, but this sweeps "
                            f"method={','.join(sorted(methods))}; sweep the methods separately")
        kept.append(arg)
    return kept
