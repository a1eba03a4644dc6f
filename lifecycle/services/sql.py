"""Helpers of the set-based recomputes (stages, health)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def without_jit(cursor: Any) -> Iterator[None]:
    """Run the statements of the block without PostgreSQL's JIT compilation, then restore the setting.

    A recompute statement is planned with row estimates far above the real counts (windows over joined events),
    which crosses the JIT cost thresholds: compiling its expressions then takes seconds, more than executing it
    (measured with bench/lifecycle.py). The setting is transaction-local; an error rolls it back with the rest."""
    cursor.execute("SELECT current_setting('jit'), set_config('jit', 'off', true)")
    previous = cursor.fetchone()[0]
    yield
    cursor.execute("SELECT set_config('jit', %s, true)", [previous])
