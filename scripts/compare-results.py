#!/usr/bin/env python3
"""Compares two files of aiecg result JSON lines (aiecg analyze --json --no-timings) field by field.

Strings, keys, list lengths and booleans must be equal; numbers may differ by at most --tol (absolute; float
kernels on different CPUs round differently) or by one unit of their last printed digit (0.0315 vs 0.0316 can be
1e-8 apart before printing). model.backend is ignored (it names the kernel path). Prints the
largest number difference and every mismatch; exit 0 when the files agree, 1 otherwise.
  scripts/compare-results.py A.jsonl B.jsonl [--tol 1e-4]
"""
import json
import sys


class Num(float):
    """A JSON number that remembers one unit of its last printed digit."""

    def __new__(cls, text):
        v = float.__new__(cls, text)
        mant = text.lower().split("e")[0]
        exp = int(text.lower().split("e")[1]) if "e" in text.lower() else 0
        dec = len(mant.split(".")[1]) if "." in mant else 0
        v.unit = 10.0 ** (exp - dec)
        return v


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    tol = 1e-4
    if "--tol" in sys.argv:
        tol = float(sys.argv[sys.argv.index("--tol") + 1])
        args = [a for a in args if a != sys.argv[sys.argv.index("--tol") + 1]]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    la = open(args[0]).read().splitlines()
    lb = open(args[1]).read().splitlines()
    bad = []
    worst = [0.0, ""]

    def walk(x, y, path):
        if len(bad) > 20:
            return
        if path.endswith(".model.backend"):
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                if k not in x or k not in y:
                    bad.append("%s.%s: only in %s" % (path, k, args[0] if k in x else args[1]))
                else:
                    walk(x[k], y[k], path + "." + k)
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                bad.append("%s: %d vs %d items" % (path, len(x), len(y)))
                return
            for i, (u, v) in enumerate(zip(x, y)):
                walk(u, v, "%s[%d]" % (path, i))
        elif isinstance(x, bool) or isinstance(y, bool) or not isinstance(x, (int, float)) \
                or not isinstance(y, (int, float)):
            if x != y:
                bad.append("%s: %r vs %r" % (path, x, y))
        else:
            d = abs(x - y)
            if d > worst[0]:
                worst[0], worst[1] = d, path
            unit = min(getattr(x, "unit", 0.0), getattr(y, "unit", 0.0))
            if d > tol and d > unit * 1.0000001:
                bad.append("%s: %r vs %r (diff %.3g > %.3g)" % (path, x, y, d, tol))

    if len(la) != len(lb):
        bad.append("%d vs %d result lines" % (len(la), len(lb)))
    for i, (a, b) in enumerate(zip(la, lb)):
        ra, rb = json.loads(a, parse_float=Num), json.loads(b, parse_float=Num)
        walk(ra, rb, "record %d (%s)" % (i + 1, ra.get("source")))
    print("%d records compared, largest number difference %.3g at %s, %d mismatches"
          % (min(len(la), len(lb)), worst[0], worst[1] or "-", len(bad)))
    for m in bad:
        print("  " + m)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
