"""A value loaded from the database and kept per DataApi (one per process in Lambda) until it is older
than a given age: routing's configuration and the active triggers are read this way."""
from __future__ import annotations

import threading
import time
import weakref
from typing import Callable, Generic, Protocol, TypeVar

from helpdesk.db.client import DataApi


class Loaded(Protocol):
    loaded_at: float  # time.monotonic() when it was read


T = TypeVar("T", bound=Loaded)


class PerDatabase(Generic[T]):
    def __init__(self, load: Callable[[DataApi], T]) -> None:
        self._load = load
        self._values: "weakref.WeakKeyDictionary[DataApi, T]" = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, db: DataApi, *, max_age: float, refresh: bool = False) -> T:
        with self._lock:
            cached = self._values.get(db)
        if cached is not None and not refresh and time.monotonic() - cached.loaded_at < max_age:
            return cached
        loaded = self._load(db)
        with self._lock:
            self._values[db] = loaded
        return loaded

    def invalidate(self, db: DataApi | None = None) -> None:
        with self._lock:
            if db is None:
                self._values.clear()
            else:
                self._values.pop(db, None)
