"""A name-to-factory registry shared by remasking rules, scorers and target models."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Callable, Generic, TypeVar

from .errors import UnknownNameError

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Registry(Generic[T]):
    """Map names to factories, with third-party additions from an entry point group.

    Args:
        kind: What the registry holds, used in error messages (``"scorer"``).
        entry_point_group: The ``importlib.metadata`` group scanned once, on the first lookup
            of a name that is not registered in code. ``None`` disables the scan.
    """

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._factories: dict[str, Callable[..., T]] = {}
        self._entry_points_loaded = False

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Return a decorator that registers a factory under ``name``."""

        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            self.add(name, factory)
            return factory

        return decorator

    def add(self, name: str, factory: Callable[..., T]) -> None:
        """Register ``factory`` under ``name``; a second factory for one name is rejected."""
        existing = self._factories.get(name)
        if existing is not None and existing is not factory:
            raise ValueError(f"{self.kind} {name!r} is already registered to {existing!r}")
        self._factories[name] = factory

    def names(self) -> list[str]:
        """Return every registered name, including entry point plugins, sorted."""
        self._load_entry_points()
        return sorted(self._factories)

    def get(self, name: str) -> Callable[..., T]:
        """Return the factory for ``name``, or raise :class:`UnknownNameError` listing the valid names."""
        if name not in self._factories:
            self._load_entry_points()
        try:
            return self._factories[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, list(self._factories)) from None

    def create(self, name: str, /, **settings: object) -> T:
        """Build the object registered under ``name`` with ``settings``."""
        return self.get(name)(**settings)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self.names()

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded or self.entry_point_group is None:
            return
        self._entry_points_loaded = True
        for entry_point in entry_points(group=self.entry_point_group):
            if entry_point.name in self._factories:
                logger.warning(
                    "ignoring entry point %r for %s %r: the name is already registered",
                    entry_point.value, self.kind, entry_point.name,
                )
                continue
            self._factories[entry_point.name] = entry_point.load()
