#!/usr/bin/env python3
"""Write a candump log (`candump -l` format) of N random frames for a DBC.

Each line looks like this:

    (1700000000.000000) can0 1A0#0123456789ABCDEF
    (1700000000.000250) can0 18FF1020#0011223344556677

Each frame belongs to a message picked at random from the DBC, and its
payload is random bytes of the message's length. In multiplexed messages the
multiplexor fields (nested ones too) are set to a value that the DBC
defines, so every frame decodes without errors. Standard identifiers are
written with 3 hex digits, extended ones with 8. Timestamps start at
1700000000.000000 and grow by a random 50..500 microseconds per frame.
The output is deterministic for a given DBC, N and seed.

Requires cantools (to read the DBC and to write the multiplexor values).

Usage:
    python3 scripts/gen_bench_log.py DBC N OUTPUT.log [--seed 1] [--iface can0]
"""

import argparse
import random
import sys

import cantools
from cantools.database.utils import create_encode_decode_formats, encode_data


def set_raw(buf, sig, raw):
    """Write the raw integer `raw` into `buf` at the position of `sig` with
    cantools' encoder, keeping the other (random) bits of `buf`.

    Message.encode() would need every signal of the frame, so this uses the
    layer below it: the bitstruct formats cantools builds, here for one
    signal, whose padding mask marks the bits outside the signal."""
    formats = create_encode_decode_formats([sig], len(buf))
    packed = encode_data({sig.name: raw}, [sig], formats, False)
    kept = int.from_bytes(buf, "big") & formats.padding_mask
    buf[:] = (kept | packed).to_bytes(len(buf), "big")


def fix_multiplexers(rng, msg, tree, buf):
    """Walk the signal tree and set every multiplexor to a defined value."""
    for node in tree:
        if isinstance(node, dict):
            for mux_name, pages in node.items():
                value = rng.choice(sorted(pages))
                set_raw(buf, msg.get_signal_by_name(mux_name), value)
                fix_multiplexers(rng, msg, pages[value], buf)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dbc")
    ap.add_argument("count", type=int, help="number of frames")
    ap.add_argument("output")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--iface", default="can0")
    args = ap.parse_args(argv)

    db = cantools.database.load_file(args.dbc, strict=False)
    messages = [m for m in db.messages if m.length <= 8 and not m.is_fd]
    if not messages:
        sys.exit("no classic CAN messages in %s" % args.dbc)
    rng = random.Random(args.seed)

    prepared = []
    for m in messages:
        if m.is_extended_frame:
            ident = "%08X" % m.frame_id
        else:
            ident = "%03X" % m.frame_id
        prepared.append((m, ident, m.is_multiplexed()))

    ts_us = 1_700_000_000 * 1_000_000
    with open(args.output, "w", encoding="ascii", newline="\n") as f:
        lines = []
        for i in range(args.count):
            m, ident, muxed = prepared[rng.randrange(len(prepared))]
            buf = bytearray(rng.getrandbits(8) for _ in range(m.length))
            if muxed:
                fix_multiplexers(rng, m, m.signal_tree, buf)
            sec, us = divmod(ts_us, 1_000_000)
            lines.append("(%d.%06d) %s %s#%s\n" % (
                sec, us, args.iface, ident, buf.hex().upper()))
            ts_us += rng.randint(50, 500)
            if len(lines) >= 10000:
                f.writelines(lines)
                lines.clear()
        f.writelines(lines)
    print("wrote %s: %d frames from %d messages" % (
        args.output, args.count, len(prepared)), file=sys.stderr)


if __name__ == "__main__":
    main()
