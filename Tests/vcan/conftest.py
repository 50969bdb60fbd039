"""Live tests on a real vcan bus: run inside the VM (scripts/vcan-vm.sh), never on a host without vcan."""
import os
import pathlib
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
VG = os.environ.get("VG_BIN", str(ROOT / ".build" / "debug" / "vehicle-gateway"))
DEMO_DBC = ROOT / "DBC" / "demo_vehicle.dbc"
DEMO_LOG = ROOT / "DBC" / "demo_drive.log"


def pytest_collection_modifyitems(config, items):
    if os.environ.get("VG_VCAN") != "1":
        skip = pytest.mark.skip(reason="needs a vcan bus: run through scripts/vcan-vm.sh")
        for item in items:
            item.add_marker(skip)


class Background:
    """A process started in the background whose stderr we can wait on."""

    def __init__(self, args, stdout=None, ready=None, timeout=20):
        self.proc = subprocess.Popen([str(a) for a in args], stdout=stdout or subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        if ready:
            deadline = time.time() + timeout
            while time.time() < deadline:
                line = self.proc.stderr.readline()
                if not line:
                    break
                self.stderr_lines.append(line)
                if ready in line:
                    return
            raise AssertionError(f"{args[0]} never said {ready!r}: {self.stderr_lines}")

    def wait(self, timeout=60):
        out, err = self.proc.communicate(timeout=timeout)
        self.stderr_lines.append(err)
        return out


def candump(*args, count, stdout):
    """can-utils candump in log format; -n stops it after `count` frames."""
    p = Background(["candump", "-L", "-n", str(count), "-r", "8388608", *args], stdout=stdout)
    time.sleep(1.0)  # candump prints nothing when ready
    return p


def frames_of(log_text):
    """(interface, frame) pairs of candump log lines, in order."""
    out = []
    for line in log_text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0].startswith("("):
            out.append((parts[1], parts[2]))
    return out


def times_of(log_text):
    return [float(line.split()[0].strip("()")) for line in log_text.splitlines() if line.startswith("(")]


@pytest.fixture
def vg():
    def run(*args, check=0, timeout=120, input=None):
        p = subprocess.run([VG, *map(str, args)], capture_output=True, text=True, timeout=timeout, input=input)
        if check is not None:
            assert p.returncode == check, f"exit {p.returncode}: {p.stderr}"
        return p
    return run
