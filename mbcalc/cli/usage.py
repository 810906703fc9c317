"""The usage line of a command: its arguments by the names their help rows give them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from typer.core import TyperArgument, TyperCommand

if TYPE_CHECKING:
    from typer._click import Context  # the Click that Typer carries, which its commands take


class NamedUsageCommand(TyperCommand):
    """A command whose usage line names each argument by its metavar (`SPEC`, `SPEC...`), as
    its help row does, where Typer would print the parameter's name in braces (`{spec}`)."""

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                pieces.append(param.make_metavar(ctx))
            else:
                pieces.extend(param.get_usage_pieces(ctx))
        return pieces
