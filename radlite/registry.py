"""A registry of named variants (model kinds, prompt profiles): one registration per variant, and one
error naming the known ones when a routing table or a command names an unknown one."""

from __future__ import annotations

from typing import Generic, TypeVar

Named = TypeVar("Named")


class Registry(dict[str, Named], Generic[Named]):
    """name -> variant; ``what`` names the kind of variant in errors ("model kind")."""

    def __init__(self, what: str, variants: tuple = ()):
        super().__init__((variant.name, variant) for variant in variants)
        self.what = what

    def register(self, variant: Named) -> Named:
        """Declare ``variant`` under its ``name``: routing tables and commands may name it from now on."""
        self[variant.name] = variant
        return variant

    def named(self, name: str) -> Named:
        if name not in self:
            raise ValueError(f"unknown {self.what} {name!r}; known: {', '.join(self)}")
        return self[name]
