"""Fixtures shared by the test modules, and the ``slow`` mark of tests that need a costly fixture.

Plain helpers (the repository root, the CLI in a subprocess or in this process, sites) are in
``tests/helpers.py``, so modules import them; the fake backends are in ``tests/fakes.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture
def fake_backends() -> Iterator[None]:
    """Register the fakes (``tests.fakes.FAKES``) as backends for in-process runs of the CLI.

    Subprocesses cannot see these: they use ``run_cli(..., fakes=True)`` instead.
    """
    from narrate.synth import backends
    from tests.fakes import FAKES

    for name, factory in FAKES.items():
        backends.register(name, factory)
    yield
    for name in FAKES:
        backends.unregister(name)


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by mark
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``slow`` every test that uses one of its module's ``SLOW_FIXTURES``.

    A module-scoped fixture that builds with a real engine costs whichever of its tests runs first
    many seconds. A module that lists such fixtures in ``SLOW_FIXTURES`` keeps every test needing
    one out of ``-m "not slow"``, and its cheap tests in it.
    """
    for item in items:
        slow = set(getattr(getattr(item, "module", None), "SLOW_FIXTURES", ()))
        if slow & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show what tests measured (``record_property("measured", LINE)``) at the end of the run.

    A print would be lost: the tests run in xdist workers, whose output pytest does not show.
    """
    lines = [
        str(value)
        for report in terminalreporter.stats.get("passed", [])
        for name, value in getattr(report, "user_properties", ())
        if name == "measured"
    ]
    if lines:
        terminalreporter.section("measurements")
        for line in lines:
            terminalreporter.write_line(line)
