"""Run narrate's CLI with the test fakes registered as backends, for subprocess tests.

``python tests/run_with_fakes.py build SLUG --backend slow`` is ``narrate build SLUG`` with the
fakes of ``tests/fakes.py`` available as backends. A subprocess cannot see a ``register()`` made
in the test process; this script makes the same registrations in its own. Worker processes are
spawned and import each factory by reference (``tests.fakes.SlowBackend``), so they need only the
repository root on ``sys.path``, which they inherit from this process.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from narrate.synth import backends  # noqa: E402 -- after the sys.path line above
from tests import fakes  # noqa: E402

for _name, _factory in fakes.FAKES.items():
    backends.register(_name, _factory)

if __name__ == "__main__":  # spawned workers re-import this file as __mp_main__: run nothing then
    from narrate.cli import main

    main()
