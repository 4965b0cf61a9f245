"""What loading a face model can fail with (shared by the registry and the model loaders)."""

from __future__ import annotations


class WeightsMissingError(RuntimeError):
    """The model's weights are not on this computer; the message says how to get them."""


class UnknownModelError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])
