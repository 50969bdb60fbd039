import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "Fixtures" / "dbc"
DEMO_DBC = ROOT / "DBC" / "demo_vehicle.dbc"


@pytest.fixture(scope="session")
def vg():
    """Runs the real vehicle-gateway binary (VG_BIN, default the debug build)."""
    binary = os.environ.get("VG_BIN", str(ROOT / ".build" / "debug" / "vehicle-gateway"))
    assert os.path.exists(binary), f"build first: {binary}"

    def run(*args, input=None, check=None):
        p = subprocess.run([binary, *map(str, args)], input=input, capture_output=True, text=True, timeout=120)
        if check is not None:
            assert p.returncode == check, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
        return p

    return run
