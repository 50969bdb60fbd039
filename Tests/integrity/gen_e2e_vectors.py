#!/usr/bin/env python3
"""Generate Tests/IntegrityTests/Fixtures/e2e_vectors.txt with an independent AUTOSAR E2E
implementation (PyPI `autosar-e2e`, a C extension), to cross-check Integrity's profiles 1, 2, 4, 5.

Usage (from the repository root):
    /tmp/integ-venv/bin/pip install autosar-e2e==1.0.0
    /tmp/integ-venv/bin/python Tests/integrity/gen_e2e_vectors.py > Tests/IntegrityTests/Fixtures/e2e_vectors.txt
"""
import random
from importlib.metadata import version

import e2e

COMMAND = ("/tmp/integ-venv/bin/python Tests/integrity/gen_e2e_vectors.py"
           " > Tests/IntegrityTests/Fixtures/e2e_vectors.txt")


def main() -> None:
  rng = random.Random(4242)
  print(f"# autosar-e2e {version('autosar-e2e')} vectors; regenerate with:\n#   {COMMAND}")
  print("# p01 mode(0 both,1 alt,2 low,3 nibble) dataID hex | p02 dataIDList-hex hex | p04 dataID offsetBytes hex | p05 dataID offsetBytes hex")
  for _ in range(100):
    mode = rng.randrange(4)
    data_id = rng.randrange(1 << 16) if mode != 2 else rng.randrange(256)
    data = bytearray(rng.randrange(256) for _ in range(rng.randrange(3, 9)))
    data[1] = (data[1] & 0xF0) | rng.randrange(15)
    e2e.p01.e2e_p01_protect(data, data_id, data_id_mode=mode, increment_counter=False)
    print(f"p01 {mode} {data_id} {data.hex()}")
  for _ in range(60):
    ids = bytes(rng.randrange(256) for _ in range(16))
    data = bytearray(rng.randrange(256) for _ in range(rng.randrange(3, 9)))
    e2e.p02.e2e_p02_protect(data, ids, increment_counter=True)
    print(f"p02 {ids.hex()} {data.hex()}")
  for _ in range(60):
    data_id = rng.randrange(1 << 32)
    off = rng.choice([0, 0, 4, 8])
    data = bytearray(rng.randrange(256) for _ in range(off + rng.randrange(12, 52)))
    e2e.p04.e2e_p04_protect(data, data_id, offset=off, increment_counter=True)
    print(f"p04 {data_id} {off} {data.hex()}")
  for _ in range(60):
    data_id = rng.randrange(1 << 16)
    off = rng.choice([0, 0, 2, 5])
    data = bytearray(rng.randrange(256) for _ in range(off + rng.randrange(3, 61)))
    e2e.p05.e2e_p05_protect(data, data_id, offset=off, increment_counter=True)
    print(f"p05 {data_id} {off} {data.hex()}")


if __name__ == "__main__":
  main()
