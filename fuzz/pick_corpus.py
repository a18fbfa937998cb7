#!/usr/bin/python3
"""pick_corpus.py MCF SEEDDIR OUTDIR MAXFILES MAXBYTES_TOTAL
Ranks campaign inputs by the coverage edges (x8) and features each added in a libFuzzer -merge control file
(seed dir listed first, so its features count as already covered) and copies the best
ones, named by SHA-1, into OUTDIR until MAXFILES or the byte budget (seeds included) is hit."""
import sys, os, hashlib, shutil
mcf, seeddir, out, maxf, maxb = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
lines = open(mcf).read().split('\n')
n = int(lines[0]); nfirst = int(lines[1]); paths = lines[2:2 + n]
gain = {}; cov = {}
for l in lines[2 + n:]:
    if l.startswith('FT '):
        p = l.split(); gain[int(p[1])] = len(p) - 2
    elif l.startswith('COV '):
        p = l.split(); cov[int(p[1])] = len(p) - 2
seedbytes = sum(os.path.getsize(os.path.join(seeddir, f)) for f in os.listdir(seeddir))
budget = maxb - seedbytes
cands = sorted((i for i in gain if i >= nfirst and gain[i] > 0), key=lambda i: (-(8 * cov.get(i, 0) + gain[i]), os.path.getsize(paths[i])))
os.makedirs(out, exist_ok=True)
picked = used = tot = 0
for i in cands:
    sz = os.path.getsize(paths[i])
    if picked >= maxf: break
    if used + sz > budget: continue
    data = open(paths[i], 'rb').read()
    shutil.copy(paths[i], os.path.join(out, hashlib.sha1(data).hexdigest()))
    picked += 1; used += sz; tot += gain[i]
print(f"picked {picked} files, {used} bytes, {tot} incremental features of {sum(gain[i] for i in cands)} (seeds {seedbytes} bytes)")
