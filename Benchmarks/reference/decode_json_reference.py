#!/usr/bin/env python3
"""What a Python user writes to get `vehicle-gateway decode --format jsonl` output: python-can
reads the candump log, cantools decodes each frame, json writes one object per line with the
same fields (t, id, extended, message, signals, choices). Prints `REF decode_jsonl <frames/s>`.

Usage: decode_json_reference.py DBC LOG [OUT]      (OUT default /dev/null)
"""
import json
import sys
import time

import can
import cantools


def main():
    dbc, log = sys.argv[1], sys.argv[2]
    out_path = sys.argv[3] if len(sys.argv) > 3 else "/dev/null"
    t0 = time.perf_counter()
    db = cantools.database.load_file(dbc, strict=False)
    by_id = {(m.frame_id, m.is_extended_frame): m for m in db.messages}
    n = 0
    with open(out_path, "w") as out:
        for msg in can.CanutilsLogReader(log):
            n += 1
            obj = {"t": msg.timestamp, "id": msg.arbitration_id, "extended": msg.is_extended_id}
            m = by_id.get((msg.arbitration_id, msg.is_extended_id))
            if m is None:
                obj.update(message=None, error="unknown id")
            else:
                obj["message"] = m.name
                try:
                    raw = m.decode(msg.data, decode_choices=False, scaling=False, allow_truncated=True)
                    phys = m.decode(msg.data, decode_choices=False, allow_truncated=True)
                    obj["signals"] = phys
                    choices = {}
                    for s in m.signals:
                        if s.name in raw and s.choices and raw[s.name] in s.choices:
                            choices[s.name] = str(s.choices[raw[s.name]])
                    obj["choices"] = choices
                except Exception as e:  # noqa: BLE001
                    obj["error"] = str(e)
            out.write(json.dumps(obj) + "\n")
    dt = time.perf_counter() - t0
    print(f"REF decode_jsonl {n / dt:.0f} frames/s ({n} frames in {dt:.2f} s, load included)")


if __name__ == "__main__":
    main()
