#!/usr/bin/env python3
"""Generate Tests/IntegrityTests/Fixtures/opendbc_vectors.txt with opendbc's own CANPacker.

For each DBC below (shipped in the opendbc 0.3.1 wheel, plain or generated), every message with a
checksum signal is packed with random raw values for all its other signals (and a random
COUNTER), so the checksum in each frame is the one opendbc's packer computed. The Swift tests
(IntegrityTests/OpendbcVectorTests.swift) recompute it with Integrity.OpendbcChecksum.

Usage (from the repository root):
    python3 -m venv /tmp/integ-venv && /tmp/integ-venv/bin/pip install opendbc==0.3.1
    /tmp/integ-venv/bin/python Tests/integrity/gen_opendbc_vectors.py > Tests/IntegrityTests/Fixtures/opendbc_vectors.txt
"""
import random
import sys
from importlib.metadata import version

from opendbc.can.dbc import DBC, SignalType, get_checksum_state
from opendbc.can.packer import CANPacker

COMMAND = ("/tmp/integ-venv/bin/python Tests/integrity/gen_opendbc_vectors.py"
           " > Tests/IntegrityTests/Fixtures/opendbc_vectors.txt")

# (DBC name, frames per DBC). Toyota, Honda and VW MQB are the main families; the rest are cheap extras.
DBCS = [
  ("toyota_nodsu_pt_generated", 160),
  ("honda_civic_touring_2016_can_generated", 160),
  ("acura_ilx_2016_can_generated", 40),
  ("vw_mqb", 160),
  ("vw_meb", 40),
  ("vw_mlb", 40),
  ("vw_pq", 40),
  ("hyundai_canfd_generated", 40),
  ("chrysler_cusw", 40),
  ("fca_giorgio", 40),
  ("comma_body", 40),
  ("tesla_model3_party", 40),
  ("psa_aee2010_r3", 40),
]

FAMILY = {
  SignalType.HONDA_CHECKSUM: "honda",
  SignalType.TOYOTA_CHECKSUM: "toyota",
  SignalType.HKG_CAN_FD_CHECKSUM: "hkgCANFD",
  SignalType.VOLKSWAGEN_MQB_MEB_CHECKSUM: "volkswagenMQB",
  SignalType.VOLKSWAGEN_MLB_CHECKSUM: "volkswagenMLB",
  SignalType.XOR_CHECKSUM: "volkswagenPQ",
  SignalType.SUBARU_CHECKSUM: "subaru",
  SignalType.CHRYSLER_CHECKSUM: "chrysler",
  SignalType.FCA_GIORGIO_CHECKSUM: "fcaGiorgio",
  SignalType.BODY_CHECKSUM: "body",
  SignalType.TESLA_CHECKSUM: "tesla",
  SignalType.PSA_CHECKSUM: "psa",
}


def layout(sig):
  return f"{sig.start_bit} {sig.size} {'LE' if sig.is_little_endian else 'BE'}"


def main() -> None:
  rng = random.Random(20261202)
  out = sys.stdout
  out.write(f"# opendbc {version('opendbc')} CANPacker vectors; regenerate with:\n#   {COMMAND}\n")
  out.write("# family dbc address checksum(start size order) counter(start size order | - - -) payload-hex\n")
  for dbc_name, count in DBCS:
    dbc = DBC(dbc_name)
    assert get_checksum_state(dbc.name) is not None, dbc_name
    msgs = []
    for msg in sorted(dbc.msgs.values(), key=lambda m: m.address):
      chk = next((s for s in msg.sigs.values() if s.type > SignalType.COUNTER), None)
      if chk is not None and msg.size <= 64:
        msgs.append((msg, chk, next((s for s in msg.sigs.values() if s.type == SignalType.COUNTER), None)))
    assert msgs, dbc_name
    # prefer messages that have a counter too, but keep checksum-only ones (Toyota has few with both)
    msgs.sort(key=lambda t: t[2] is None)
    packer = CANPacker(dbc_name)
    for k in range(count):
      msg, chk, cnt = msgs[k % len(msgs)]
      values = {}
      for sig in msg.sigs.values():
        if sig is chk:
          continue
        raw = rng.randrange(0, 1 << min(sig.size, 52))
        values[sig.name] = raw * sig.factor + sig.offset
      dat = packer.pack(msg.address, values)
      assert len(dat) == msg.size
      cnt_layout = layout(cnt) if cnt is not None else "- - -"
      out.write(f"{FAMILY[chk.type]} {dbc_name} {msg.address} {layout(chk)} {cnt_layout} {bytes(dat).hex()}\n")


if __name__ == "__main__":
  main()
