"""Plain metavars in ``--help``: ``--format FORMAT``, ``PATH``, nothing after a flag.

Typer 0.2x shows each parameter's Python type (``--help <bool>``, ``--format <str>``) and puts a
required argument in braces in the usage line (``{path}``); these overrides restore the usual
Unix style. Installed once, by ``worker.cli.main``.
"""

from __future__ import annotations

from typing import Any

from typer import core


def _option_type(self: Any, ctx: Any) -> str | None:
    if self.metavar is not None:
        return str(self.metavar)
    if self.is_flag or self.is_bool_flag or self.count:
        return None
    longest = max(self.opts, key=len, default=self.name or "value")
    return longest.lstrip("-").upper().replace("-", "_") + ("..." if self.nargs != 1 else "")


def _argument_type(self: Any, ctx: Any) -> str | None:
    return None  # the argument's own name (below) says it


def _argument_name(self: Any) -> str:
    name = str(self.metavar or (self.name or "arg").upper())
    return name + ("..." if self.nargs != 1 else "")


def _argument_usage(self: Any) -> str:
    name = _argument_name(self)
    return name if self.required else f"[{name}]"


def install() -> None:
    core.TyperOption.display_type_rich = _option_type  # type: ignore[method-assign]
    core.TyperArgument.display_type_rich = _argument_type  # type: ignore[method-assign]
    core.TyperArgument._rich_display_name = _argument_name  # type: ignore[method-assign]
    core.TyperArgument._usage_display_name = _argument_usage  # type: ignore[method-assign]
