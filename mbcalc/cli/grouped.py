"""Option groups spread into a command's signature, so that shared options are declared once.

A command names a group as one parameter (`deploy: DeployOptions`); Typer sees the group's
fields there instead, in their order, and the command receives the group built from them.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any

import typer

from mbcalc.cli.options import CountingOptions, DeliveryOptions, DeployOptions, SettingOptions

GROUPS: tuple[type, ...] = (SettingOptions, DeliveryOptions, DeployOptions, CountingOptions)
"""The dataclasses a command may take as one parameter."""

CONTEXT = "_mbcalc_context"
"""The hidden parameter through which Typer hands the command's context to the wrapper."""


def _fields(group: type) -> list[inspect.Parameter]:
    """The group's fields as keyword parameters, with their option declarations and defaults."""
    hints = typing.get_type_hints(group, include_extras=True)
    return [
        inspect.Parameter(
            field.name, inspect.Parameter.KEYWORD_ONLY, annotation=hints[field.name],
            default=field.default,
        )
        for field in dataclasses.fields(group)
    ]  # fmt: skip


def _defaulted(context: typer.Context) -> set[str]:
    """The names of the command's parameters left at their defaults."""
    return {
        name
        for name in context.params
        if getattr(context.get_parameter_source(name), "name", None) == "DEFAULT"
    }


def with_groups(command: Callable[..., None]) -> Callable[..., None]:
    """`command` with each group parameter spread into the group's options for Typer."""
    signature = inspect.signature(command, eval_str=True)
    spread: list[inspect.Parameter] = []
    groups: dict[str, tuple[type, list[str]]] = {}
    for parameter in signature.parameters.values():
        if parameter.annotation in GROUPS:
            fields = _fields(parameter.annotation)
            groups[parameter.name] = (parameter.annotation, [field.name for field in fields])
            spread += fields
        else:
            spread.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

    context = inspect.Parameter(CONTEXT, inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
    spread.append(context)

    @functools.wraps(command)
    def wrapper(**options: Any) -> None:
        defaulted = _defaulted(options.pop(CONTEXT))
        for name, (group, fields) in groups.items():
            built = group(**{field: options.pop(field) for field in fields})
            if group is DeliveryOptions:
                built = built.resolved(defaulted, command.__name__)
            options[name] = built
        command(**options)

    wrapper.__signature__ = signature.replace(parameters=spread)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {parameter.name: parameter.annotation for parameter in spread}
    return wrapper
