"""PTB-XL loading for the aiecg 12-lead models: a small WFDB format-16 reader,
the label sets of Strodthoff et al. 2021 ("Deep learning for ECG analysis:
benchmarks and insights from PTB-XL", IEEE JBHI 25:1519) built from
scp_statements.csv, the partial labels of data/ptbxl-labels, the fold split,
the product preprocessing (mV, per-lead median removed) and augmentation.

Why our own reader: training must not depend on the C library being ready.
Invariants: leads are always returned in LEADS12 order; signals are float32 mV.
"""
import csv
import os

import numpy as np

LEADS12 = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
LEAD_SETS = {
    "ecg12": LEADS12,
    "limb6": LEADS12[:6],
    "leads2": ["I", "II"],
    "lead1": ["I"],
}


# ---------------------------------------------------------------- WFDB reader
def read_header(path):
    """Parses a WFDB .hea: returns dict(name, nsig, fs, nsamp, sigs=[dict(file, fmt, gain, baseline, units, desc)])."""
    with open(path, "r", encoding="latin-1") as f:
        lines = [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]
    rec = lines[0].split()
    nsig = int(rec[1])
    fs = float(rec[2].split("/")[0]) if len(rec) > 2 else 250.0
    nsamp = int(rec[3]) if len(rec) > 3 else -1
    sigs = []
    for ln in lines[1:1 + nsig]:
        p = ln.split()
        fmt = p[1].split("x")[0].split(":")[0].split("+")[0]
        g = p[2] if len(p) > 2 else "200"
        units = "mV"
        if "/" in g:
            g, units = g.split("/", 1)
        baseline = None
        if "(" in g:
            g, b = g.split("(")
            baseline = int(b.rstrip(")"))
        gain = float(g) or 200.0
        adczero = int(p[4]) if len(p) > 4 else 0
        if baseline is None:
            baseline = adczero
        sigs.append(dict(file=p[0], fmt=fmt, gain=gain, baseline=baseline, units=units,
                         desc=" ".join(p[8:]) if len(p) > 8 else ""))
    return dict(name=rec[0], nsig=nsig, fs=fs, nsamp=nsamp, sigs=sigs)


def _std_lead(desc):
    d = desc.strip().upper()
    for L in LEADS12:
        if d == L.upper():
            return L
    raise ValueError("unknown lead name %r" % desc)


def read_record_adu(base):
    """Reads a format-16 WFDB record (one .dat). Returns (adu int16 [12, n] in LEADS12 order,
    gain float32 [12] adu/mV, baseline int32 [12], fs)."""
    h = read_header(base + ".hea")
    files = {s["file"] for s in h["sigs"]}
    if len(files) != 1 or any(s["fmt"] != "16" for s in h["sigs"]):
        raise ValueError("%s: only single-file format 16 is supported" % base)
    raw = np.fromfile(os.path.join(os.path.dirname(base), files.pop()), dtype="<i2")
    n = raw.size // h["nsig"]
    raw = raw[: n * h["nsig"]].reshape(n, h["nsig"]).T
    adu = np.zeros((12, n), np.int16)
    gain = np.ones(12, np.float32)
    base_ = np.zeros(12, np.int32)
    for i, s in enumerate(h["sigs"]):
        j = LEADS12.index(_std_lead(s["desc"]))
        scale = {"mV": 1.0, "uV": 1000.0, "V": 0.001}.get(s["units"], 1.0)
        adu[j] = raw[i]
        gain[j] = s["gain"] / scale * 1.0  # adu per mV
        base_[j] = s["baseline"]
    return adu, gain, base_, h["fs"]


def preprocess(adu, gain, baseline):
    """The product preprocessing (docs/training.md): mV = (adu - baseline) / gain, then each
    lead's median (numpy convention: mean of the two middle values for even length) removed.
    Works on [..., 12, T] arrays; returns float32."""
    x = (adu.astype(np.float32) - baseline[..., None].astype(np.float32)) / gain[..., None]
    x = x.astype(np.float32)
    return (x - np.median(x, axis=-1, keepdims=True)).astype(np.float32)


# ---------------------------------------------------------------- labels
def load_statements(data_dir):
    """Label sets of Strodthoff et al. from scp_statements.csv."""
    rows = list(csv.DictReader(open(os.path.join(data_dir, "ptbxl", "scp_statements.csv"))))
    key = list(rows[0].keys())[0]
    stm = {}
    for r in rows:
        stm[r[key]] = dict(diag=r["diagnostic"] == "1.0", form=r["form"] == "1.0",
                           rhythm=r["rhythm"] == "1.0", cls=r["diagnostic_class"],
                           sub=r["diagnostic_subclass"], desc=r["description"])
    codes = sorted(stm)
    subs = sorted({v["sub"] for v in stm.values() if v["diag"] and v["sub"]})
    supers = ["NORM", "MI", "STTC", "CD", "HYP"]
    return stm, codes, subs, supers


CINC27 = None  # filled from labels.csv (sorted set of classes present)


def build_labels(data_dir):
    """Returns dict with ids, filenames, folds (0 = unknown), label names, targets Y [N,K] float32,
    mask M [N,K] float32 (1 = label known), groups per label."""
    stm, codes, subs, supers = load_statements(data_dir)
    rows = list(csv.DictReader(open(os.path.join(data_dir, "ptbxl-labels", "labels.csv"))))
    cinc = sorted({c for r in rows for c in r["cinc2020_classes"].split(";") if c})
    names = (["stmt:" + c for c in codes] + ["sub:" + s for s in subs] +
             ["super:" + s for s in supers] + ["cinc:" + c for c in cinc])
    groups = []
    for c in codes:
        g = ["all"]
        if stm[c]["diag"]:
            g.append("diag")
        if stm[c]["form"]:
            g.append("form")
        if stm[c]["rhythm"]:
            g.append("rhythm")
        groups.append(g)
    groups += [["subdiag"]] * len(subs) + [["superdiag"]] * len(supers) + [["cinc"]] * len(cinc)
    idx = {n: i for i, n in enumerate(names)}
    keep = []
    for r in rows:
        if r["strat_fold"] in ("9", "10"):
            continue  # held-out test folds: never loaded
        if not os.path.exists(os.path.join(data_dir, "ptbxl", r["filename_lr"] + ".hea")):
            continue
        keep.append(r)
    N, K = len(keep), len(names)
    Y = np.zeros((N, K), np.float32)
    M = np.zeros((N, K), np.float32)
    ns = len(codes) + len(subs)
    for i, r in enumerate(keep):
        st = [c for c in r["scp_statements"].split(";") if c]
        if st:
            M[i, :ns] = 1
            for c in st:
                Y[i, idx["stmt:" + c]] = 1
                if stm[c]["diag"] and stm[c]["sub"]:
                    Y[i, idx["sub:" + stm[c]["sub"]]] = 1
        M[i, ns:] = 1
        for s in r["superclasses"].split(";"):
            if s:
                Y[i, idx["super:" + s]] = 1
        for c in r["cinc2020_classes"].split(";"):
            if c:
                Y[i, idx["cinc:" + c]] = 1
    ids = np.array([int(r["ecg_id"]) for r in keep], np.int64)
    folds = np.array([int(r["strat_fold"]) if r["strat_fold"] else 0 for r in keep], np.int64)
    files = [r["filename_lr"] for r in keep]
    return dict(ids=ids, files=files, folds=folds, names=names, groups=groups, Y=Y, M=M, stm=stm)


def load_signals(data_dir, files, ids, cache_dir):
    """All records as int16 adu [N,12,1000] + gain [N,12] + baseline [N,12], cached as one .npz
    (uncompressed) under cache_dir keyed by the id list."""
    os.makedirs(cache_dir, exist_ok=True)
    key = "%d_%d_%d" % (len(ids), int(ids.sum()), int((ids * ids % 100003).sum()))
    path = os.path.join(cache_dir, "ptbxl100_%s.npz" % key)
    if os.path.exists(path):
        z = np.load(path)
        return z["adu"], z["gain"], z["baseline"]
    N = len(files)
    adu = np.zeros((N, 12, 1000), np.int16)
    gain = np.ones((N, 12), np.float32)
    base = np.zeros((N, 12), np.int32)
    for i, f in enumerate(files):
        a, g, b, fs = read_record_adu(os.path.join(data_dir, "ptbxl", f))
        if fs != 100 or a.shape[1] != 1000:
            raise ValueError("%s: expected 100 Hz x 1000 samples" % f)
        adu[i], gain[i], base[i] = a, g, b
    np.savez(path, adu=adu, gain=gain, baseline=base)
    return adu, gain, base


# ---------------------------------------------------------------- augmentation
def augment(x, rng, fs=100.0):
    """x float32 [B,C,T] mV (median removed). Amplitude scaling, gaussian noise, baseline wander.
    Random crops/time shift are done by the caller."""
    B, C, T = x.shape
    x = x * rng.uniform(0.8, 1.25, size=(B, 1, 1)).astype(np.float32)
    x = x * rng.uniform(0.95, 1.05, size=(B, C, 1)).astype(np.float32)
    sig = rng.uniform(0.0, 0.03, size=(B, 1, 1)).astype(np.float32)
    x = x + rng.standard_normal((B, C, T)).astype(np.float32) * sig
    t = np.arange(T, dtype=np.float32)[None, None, :] / fs
    f = rng.uniform(0.05, 0.5, size=(B, 1, 1)).astype(np.float32)
    ph = rng.uniform(0, 2 * np.pi, size=(B, C, 1)).astype(np.float32)
    a = rng.uniform(0, 0.15, size=(B, 1, 1)).astype(np.float32) * (rng.random((B, 1, 1)) < 0.5)
    x = x + a.astype(np.float32) * np.sin(2 * np.pi * f * t + ph)
    return x.astype(np.float32)
