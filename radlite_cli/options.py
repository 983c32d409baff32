"""The click adapter of the options classes: pydantic fields (type, default, bounds, one-line doc) become
click options.

An options class is the single declaration of a group of settings. The CLI is generated from it, the
Python API builds it directly, and the ``runs`` row stores it, so a default or a bound lives in one
place. The classes are plain pydantic (the library imports no click); only the commands use this. Field
names map to flags (``max_report_bytes`` -> ``--max-report-bytes``); ``bool`` fields are flags, ``Enum``
and ``Literal`` fields are choices, ``tuple[str, ...]`` fields are repeatable, ``dict[str, str]`` fields
take repeatable ``KEY=VALUE`` values. ``json_schema_extra`` may name a ``flag``, a ``metavar`` and
``path`` (click.Path's settings: exists, dir_okay, ...).
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable

import click
from pydantic import BaseModel, ValidationError


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _unwrap_optional(annotation):
    """``X | None`` -> X; anything else unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _parse_pairs(ctx, param, values: tuple[str, ...]) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, item = value.partition("=")
        if not sep or not key or not item:
            raise click.BadParameter(f"{value!r}: use KEY=VALUE")
        pairs[key] = item
    return pairs


def _click_option(name: str, field) -> Callable:
    annotation = _unwrap_optional(field.annotation)
    extra = field.json_schema_extra or {}
    kwargs: dict = {"help": field.description, "show_default": True}
    if field.is_required():
        kwargs.update(required=True, show_default=False)
    else:
        kwargs["default"] = field.get_default(call_default_factory=True)
        if kwargs["default"] in (None, False, {}, ()):
            kwargs["show_default"] = False
    if annotation is bool:
        kwargs["is_flag"] = True
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        kwargs["type"] = click.Choice([m.value for m in annotation])
        if isinstance(kwargs.get("default"), enum.Enum):
            kwargs["default"] = kwargs["default"].value
    elif typing.get_origin(annotation) is typing.Literal:
        kwargs["type"] = click.Choice([str(v) for v in typing.get_args(annotation)])
    elif typing.get_origin(annotation) is tuple:
        kwargs.update(multiple=True, default=kwargs.get("default", ()))
    elif typing.get_origin(annotation) is dict:
        kwargs.update(multiple=True, callback=_parse_pairs, default=(), metavar=extra.get("metavar", "KEY=VALUE"))
    elif annotation in (int, float):
        kwargs["type"] = annotation
    if "path" in extra:
        kwargs["type"] = click.Path(**extra["path"])
    if "metavar" in extra and "metavar" not in kwargs:
        kwargs["metavar"] = extra["metavar"]
    return click.option(extra.get("flag", flag(name)), name, **kwargs)


def click_options(*models: type[BaseModel]) -> Callable:
    """Decorator adding one click option per field of each options class, in declaration order."""

    def decorate(command):
        for model in reversed(models):
            for name, field in reversed(list(model.model_fields.items())):
                command = _click_option(name, field)(command)
        return command

    return decorate


def options_from_cli(model: type[BaseModel], values: dict):
    """Build ``model`` from the command's keyword arguments; a bad value is one usage line naming the flag."""
    given = {name: values[name] for name in model.model_fields if name in values}
    try:
        return model(**given)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else ""
        if not name:  # a check across fields: its message names the options
            raise click.UsageError(error["msg"].removeprefix("Value error, ")) from None
        raise click.BadParameter(f"{given.get(name)!r}: {error['msg']}", param_hint=flag(name)) from None
