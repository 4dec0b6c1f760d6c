#!/usr/bin/env python3
"""make_seeds.py DIR writes the frame-reader fuzzer's seed corpus into DIR.

Each seed is a small input in the layout frame_reader_fuzz.cpp documents: a
well-formed ring (inline frames, a heap frame, a padding frame before the
wrap, a stream the reader follows over several heads), so the fuzzer starts
from inputs that pass the decoder's first checks and mutates from there.
"""
import pathlib
import struct
import sys

ALIGN = 16


def frame(kind, body=b"", flags=0, frame_id=1):
    """One ring frame: header (length, kind, flags, id), body, padding to 16."""
    padded = body + bytes(-len(body) % ALIGN)
    return struct.pack("<IHHQ", len(body), kind, flags, frame_id) + padded


def heap_frame(offset, length, kind=2):
    return frame(kind, struct.pack("<QQ", offset, length), flags=1)


def padding(to_end):
    """The filler frame that covers the last `to_end` bytes of the ring."""
    return struct.pack("<IHHQ", to_end - ALIGN, 0, 0, 0) + bytes(to_end - ALIGN)


def seed(ring, head_distance, tail=0, capacity_log=0, max_inline=15, kind_limit=6,
         heap=1024, heads=()):
    """Header (see frame_reader_fuzz.cpp), head updates, then ring bytes.

    max_inline=15 gives 16 * 16 = 256 bytes; kind_limit=6 gives 8.
    """
    flags = 1 | (len(heads) << 4)
    header = struct.pack("<BBBBHQI", capacity_log, max_inline, kind_limit, flags, heap, tail,
                         head_distance)
    return header + b"".join(struct.pack("<H", h) for h in heads) + ring


def seeds():
    three = frame(1, b"hello", frame_id=1) + frame(3, b"", frame_id=2) + frame(7, b"x" * 40)
    wrap = padding(32) + frame(1, b"after the wrap")
    stream = frame(1, b"a") + frame(2, b"bb") + frame(3, b"ccc") + frame(4, b"dddd")
    return {
        "empty": seed(b"", 0),
        "inline-frames": seed(three, len(three)),
        "heap-frame": seed(heap_frame(64, 100), 32),
        "padding-wrap": seed(wrap, len(wrap), tail=4096 - 32),
        "bad-kind-and-flags": seed(frame(9) + frame(1, flags=0x40), 32),
        "reader-stream": seed(stream, 32, heads=(1, 2, 0x8000 | 3, 4)),
    }


def main(args):
    if len(args) != 1:
        print("usage: make_seeds.py DIR", file=sys.stderr)
        return 2
    out = pathlib.Path(args[0])
    out.mkdir(parents=True, exist_ok=True)
    for name, data in seeds().items():
        (out / f"seed-{name}").write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
