"""The Swift integrity tests check their CRCs against fixtures; these tests remake the fixtures
with the tools they come from — opendbc 0.3.1's own CANPacker and the independent `autosar-e2e`
package — and require the same bytes, so the vectors are what those tools compute today."""
import subprocess
import sys

from conftest import ROOT

FIXTURES = ROOT / "Tests" / "IntegrityTests" / "Fixtures"


def remade(script):
    return subprocess.run([sys.executable, ROOT / "Tests" / "integrity" / script], capture_output=True, text=True,
                          check=True, timeout=120).stdout


def test_opendbc_vectors_are_what_opendbcs_packer_makes():
    assert remade("gen_opendbc_vectors.py") == (FIXTURES / "opendbc_vectors.txt").read_text()


def test_e2e_vectors_are_what_autosar_e2e_makes():
    assert remade("gen_e2e_vectors.py") == (FIXTURES / "e2e_vectors.txt").read_text()
