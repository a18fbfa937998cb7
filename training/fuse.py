"""Fusion stage of an aiecg model (ecg12, limb6, leads2, lead1): a per-label L2 logistic stacker over the
network's logit and the C pipeline's measurement features (src/interp/fusion.c; stacked generalisation,
Wolpert 1992):

    logit' = a * logit_model + c + w . z,   z = clip((f - mu) / sd, +-6), NaN -> 0

Input: the CSV `aiecg eval ptbxl --models DIR --folds 0-8 --dump-features FILE` writes with DIR holding
only that model (ecg_id, fold, the features in the C order, every label's logit); eval ptbxl reduces
each record to the model's input leads first, so a reduced-lead model's features come from its own
leads only (a feature those leads cannot give is NaN everywhere: z = 0, no weight). Label names come
from the model's aiecg.labels. Fitted on TRAINING records only (strat_fold 1-7 and the records of
unknown fold 0; statement/subclass labels exist only for folds 1-7); fold 8 (validation) is used to
compare the variants and choose the regularisation - model selection on the validation split, stated
in the model card. Folds 9/10 are never read.

The network's logits on its own training records are in-sample (over-confident), so a stacker that
also fits the logit's weight `a` learns to trust the logit and under-weights the features. Variants
compared on fold 8 (--variants):
  free    a fitted jointly with w, c
  offset  a = 1 fixed (the logit is an offset), only w and c fitted
  shrink  a = S fixed (S < 1, e.g. 0.5: the logit is tempered as if out of sample), w and c fitted
The one with the best fold-8 macro-AUC "all" is shipped (--use overrides) and every declared candidate
label with >= 3 training positives is fused (--keep all; --keep better is per-label selection on fold 8
and is reported, not shipped). With --write, the fusion goes into the ONNX metadata (key aiecg.fusion,
format in fusion.c), the thresholds of the fused labels are re-chosen on fold 8 as training/metrics.py
does (F1-optimal, specificity >= 0.9 except the normal labels) into aiecg.thresholds, the network's own
thresholds are kept as aiecg.thresholds.model (taken from there when the model already has them, so a
refit of a fused model is the same fit); the network weights stay byte-identical (checked). --report
writes the fold-8 figures that training/evaluate.py turns into the card's Fusion section. Then recompile
the .aiem. training/retrain.sh runs all of it:

    aiecg eval ptbxl --db data --models DIR --folds 0-8 --threads 2 --dump-features training/out/lead1_features.csv
    /usr/bin/python3 training/fuse.py --features training/out/lead1_features.csv --model models/lead1.onnx
    /usr/bin/python3 training/fuse.py --features ... --model models/lead1.onnx --write --report training/out/lead1_fusion.json
    aiecg model compile models/lead1.onnx -o models/lead1.aiem

numpy/scipy only.
"""
import argparse
import csv
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import metrics  # noqa: E402
import ptbxl  # noqa: E402

Z_CLIP = 6.0
SETS = ["all", "diag", "subdiag", "superdiag", "form", "rhythm", "cinc"]

# Labels a measurement can speak to (rhythm, conduction, intervals, axis, voltage, repolarisation form):
# declared before looking at fold 8; fold 8 then decides which of them keep the fusion.
CANDIDATES = set(
    ["stmt:" + c for c in ["SR", "AFIB", "STACH", "SARRH", "SBRAD", "PACE", "SVARR", "BIGU", "AFLT", "SVTAC",
                           "PSVT", "TRIGU",  # rhythm
                           "1AVB", "2AVB", "3AVB", "CLBBB", "CRBBB", "ILBBB", "IRBBB", "IVCD", "LAFB", "LPFB",
                           "WPW", "LVH", "RVH", "LAO/LAE", "RAO/RAE", "SEHYP", "LNGQT",  # conduction, hypertrophy
                           "ABQRS", "PVC", "STD_", "VCLVH", "QWAVE", "LOWT", "NT_", "PAC", "LPR", "INVT", "LVOLT",
                           "HVOLT", "TAB_", "STE_", "PRC(S)", "NDT", "NST_", "DIG"]] +  # form
    ["cinc:" + c for c in ["AF", "AFL", "IAVB", "LAD", "RAD", "LQRSV", "LQT", "NSIVCB", "PAC", "SVPB", "SA", "SB",
                           "STach", "NSR", "PR", "LPR", "TAb", "TInv", "QAb", "CRBBB", "IRBBB", "LBBB", "LAnFB"]])


def read_dump(path):
    with open(path) as f:
        rd = csv.reader(f)
        hdr = next(rd)
        rows = [r for r in rd]
    a = np.array([[float(x) for x in r] for r in rows], np.float64)
    lcols = [i for i, h in enumerate(hdr) if h.startswith("logit:")]
    fcols = [i for i in range(2, lcols[0])]
    return dict(ids=a[:, 0].astype(np.int64), folds=a[:, 1].astype(np.int64),
                feat_names=[hdr[i] for i in fcols], F=a[:, fcols],
                label_names=[hdr[i][6:] for i in lcols], L=a[:, lcols])


def standardise(F, train):
    mu = np.nanmean(F[train], axis=0)
    sd = np.nanstd(F[train], axis=0)
    mu = np.where(np.isfinite(mu), mu, 0.0)
    sd = np.where(np.isfinite(sd) & (sd > 1e-9), sd, 1.0)
    return mu, sd


def zscore(F, mu, sd):
    z = (F - mu) / sd
    z = np.where(np.isfinite(z), z, 0.0)
    return np.clip(z, -Z_CLIP, Z_CLIP)


def penalised_loss(X, y, offset, P, beta):
    eta = offset + X @ beta
    return float(np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * beta @ P @ beta)


def fit_logistic(X, y, offset, lam, penalise, iters=100):
    """L2 logistic regression with an offset, by Newton's method with step halving (a full Newton step
    is taken whenever it does not raise the penalised loss, so a fit that converges plainly is the
    undamped Newton fit; the halving keeps near-separable labels - in-sample logits as offset - from
    oscillating); penalise[k] = 1 where column k is penalised. Returns beta."""
    beta = np.zeros(X.shape[1])
    P = lam * np.diag(penalise.astype(np.float64))
    loss = penalised_loss(X, y, offset, P, beta)
    for _ in range(iters):
        eta = np.clip(offset + X @ beta, -50, 50)
        p = 1.0 / (1.0 + np.exp(-eta))
        g = X.T @ (p - y) + P @ beta
        W = p * (1 - p)
        H = (X * W[:, None]).T @ X + P + 1e-8 * np.eye(X.shape[1])
        step = np.linalg.solve(H, g)
        t = 1.0
        while True:
            nb = beta - t * step
            nl = penalised_loss(X, y, offset, P, nb)
            if nl <= loss + 1e-12 * abs(loss) or t < 1e-6:
                break
            t *= 0.5
        beta, loss = nb, nl
        if np.max(np.abs(t * step)) < 1e-9:
            break
    return beta


def fit_label(z, logit, y, variant, lam, shrink):
    """Returns (a, c, w)."""
    n, k = z.shape
    if variant == "free":
        X = np.c_[z, np.ones(n), logit]
        pen = np.r_[np.ones(k), 0, 0]
        b = fit_logistic(X, y, np.zeros(n), lam, pen)
        return b[k + 1], b[k], b[:k]
    a = 1.0 if variant == "offset" else shrink
    X = np.c_[z, np.ones(n)]
    pen = np.r_[np.ones(k), 0]
    b = fit_logistic(X, y, a * logit, lam, pen)
    return a, b[k], b[:k]


def macro(names, groups, aucs, use):
    out = {}
    for g in SETS:
        v = [aucs[k] for k in use if g in groups[k] and np.isfinite(aucs[k])]
        out[g] = float(np.mean(v)) if v else float("nan")
    return out


def write_report(a, props, names, groups, Y, M, train, val, L, Z, raw_auc, results, base, best_key, keep, coef,
                 final, mac, thr_model, thr):
    """The fold-8 figures of this fit as JSON (NaN -> null): what training/evaluate.py turns into the
    model card's Fusion section, so the card is regenerated from measured data, never hand-edited."""
    import json

    def num(x):
        return None if x is None or not np.isfinite(x) else float(x)

    labels = []
    for k, n in enumerate(names):
        vm = val & (M[:, k] > 0)
        y = Y[vm, k]
        pn = metrics.sigmoid(L[vm, k])
        if k in keep:
            ak, ck, wk = coef[k]
            pf = metrics.sigmoid(ak * L[vm, k] + ck + Z[vm] @ wk)
        else:
            pf = pn
        f1n, sen, spn = metrics.confusion(y, pn >= thr_model[k]) if vm.any() else (float("nan"),) * 3
        f1f, sef, spf = metrics.confusion(y, pf >= thr[k]) if vm.any() else (float("nan"),) * 3
        labels.append(dict(label=n, groups=groups[k], n=int(vm.sum()), pos=int(y.sum()), fused=k in keep,
                           a=num(coef[k][0]) if k in keep else None,
                           auc_network=num(raw_auc[k]), auc_fused=num(final[k]),
                           thr_network=float(thr_model[k]), thr_fused=float(thr[k]),
                           f1_network=num(f1n), f1_fused=num(f1f), se_network=num(sen), se_fused=num(sef),
                           sp_network=num(spn), sp_fused=num(spf)))
    grid = []
    for key, (cf, aucv) in results.items():
        grid.append(dict(variant=key[0], lam=key[1], macro={g: num(v) for g, v in
                                                            macro(names, groups, aucv, range(len(names))).items()}))
    stmt = [k for k, n in enumerate(names) if n.startswith("stmt:")]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    fa = os.path.abspath(a.features)
    feat_path = os.path.relpath(fa, root) if fa.startswith(root + os.sep) else a.features
    never = [d_feat for d_feat, fin in zip(a._feat_names, a._feat_finite) if not fin]
    # what the card states beside the shipped choice: the per-label selection that was not used, the logit
    # weights the free variant learns at the shipped lambda, the network's in-sample training AUC
    cf, aucv = results[best_key]
    better = [k for k in cf if np.isfinite(aucv[k]) and np.isfinite(raw_auc[k]) and aucv[k] >= raw_auc[k]]
    kb = raw_auc.copy()
    for k in better:
        kb[k] = aucv[k]
    free = results.get(("free", best_key[1]))
    free_a = [float(v[0]) for v in free[0].values()] if free else []
    train_auc = np.array([metrics.auc(Y[train & (M[:, k] > 0), k], L[train & (M[:, k] > 0), k])
                          for k in range(len(names))])
    extra = dict(keep_better=dict(n=len(better), macro={g: num(v) for g, v in
                                                        macro(names, groups, kb, range(len(names))).items()}),
                 free_a_range=[min(free_a), max(free_a)] if free_a else None,
                 free_a_above1=sum(1 for x in free_a if x > 1), free_lam=best_key[1],
                 macro_network_train={g: num(v) for g, v in macro(names, groups, train_auc, range(len(names))).items()})
    rep = dict(model=props.get("aiecg.model.name", os.path.basename(a.model)), leads=props.get("aiecg.input.leads"),
               features=feat_path, variants=a.variants, lams=a.lams, shrink=a.shrink,
               shipped=dict(variant=best_key[0], lam=best_key[1]), chosen_by="--use" if a.use else "best fold-8 all",
               keep=a.keep, n_candidates=len([k for k in range(len(names)) if names[k] in CANDIDATES]),
               n_fitted=len(coef), n_fused=len(keep), train_records=int(train.sum()),
               train_records_with_statements=int((train & (M[:, stmt[0]] > 0)).sum()) if stmt else None,
               val_records=int(val.sum()), n_features=len(a._feat_names), features_never_measured=never, macro_network={g: num(v) for g, v in base.items()},
               macro_fused={g: num(v) for g, v in mac.items()}, grid=grid, labels=labels, **extra)
    with open(a.report, "w") as f:
        json.dump(rep, f, indent=1, allow_nan=False)
    print("fold-8 figures written to %s" % a.report)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--features", required=True, help="CSV of aiecg eval ptbxl --folds 0-8 --dump-features")
    ap.add_argument("--data", default="data")
    ap.add_argument("--model", default="models/ecg12.onnx")
    ap.add_argument("--variants", default="free,offset,shrink")
    ap.add_argument("--lams", default="1,10,30,100")
    ap.add_argument("--shrink", type=float, default=0.5)
    ap.add_argument("--use", default=None, help="variant:lam to ship (default: best fold-8 macro-AUC all)")
    ap.add_argument("--keep", default="all", choices=["all", "better"],
                    help="all: every fitted candidate keeps its fusion (default); better: only those whose "
                         "fold-8 AUC does not drop (per-label selection on the validation split)")
    ap.add_argument("--write", action="store_true", help="write aiecg.fusion into --model (or --write-to)")
    ap.add_argument("--write-to", default=None, metavar="ONNX",
                    help="with --write: write the fused model here instead of over --model (scratch checks)")
    ap.add_argument("--report", default=None, metavar="JSON",
                    help="write the measured fold-8 figures (variant grid, per label network vs fused AUC, "
                         "thresholds, F1/Se/Sp) for training/evaluate.py's Fusion section")
    ap.add_argument("--expected", default=None, help="write C-test expectations (ecg_id,label,prob) for ids")
    ap.add_argument("--expected-ids", default="")
    a = ap.parse_args()

    np.seterr(invalid="ignore")  # features a lead set cannot measure are NaN in every record
    import warnings
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    d = read_dump(a.features)
    lab = ptbxl.build_labels(a.data)
    import onnx
    m = onnx.load(a.model)
    props = {p.key: p.value for p in m.metadata_props}
    names = props["aiecg.labels"].split(",")
    assert names == d["label_names"], "dump labels differ from the model's aiecg.labels"
    assert names == lab["names"], "model labels differ from ptbxl.build_labels"
    groups = lab["groups"]
    pos = {int(i): r for r, i in enumerate(lab["ids"])}
    rows = np.array([pos[int(i)] for i in d["ids"]])
    Y, M = lab["Y"][rows], lab["M"][rows]
    folds = d["folds"]
    assert not np.isin(folds, [9, 10]).any()
    train = folds <= 7
    val = folds == 8
    print("records: %d training (folds 0-7), %d validation (fold 8); %d features, %d labels" % (
        train.sum(), val.sum(), d["F"].shape[1], len(names)))
    mu, sd = standardise(d["F"], train)
    a._feat_names = d["feat_names"]
    a._feat_finite = np.isfinite(d["F"][train]).any(axis=0)
    Z = zscore(d["F"], mu, sd)
    L = d["L"]
    K = len(names)
    raw_auc = np.array([metrics.auc(Y[val & (M[:, k] > 0), k], L[val & (M[:, k] > 0), k]) for k in range(K)])
    cand = [k for k in range(K) if names[k] in CANDIDATES]

    results = {}
    for variant in a.variants.split(","):
        for lam in [float(x) for x in a.lams.split(",")]:
            coef, aucv = {}, raw_auc.copy()
            for k in cand:
                tr = train & (M[:, k] > 0)
                y = Y[tr, k]
                if y.sum() < 3:
                    continue
                ak, ck, wk = fit_label(Z[tr], L[tr, k], y, variant, lam, a.shrink)
                vm = val & (M[:, k] > 0)
                fused = ak * L[vm, k] + ck + Z[vm] @ wk
                coef[k] = (ak, ck, wk)
                aucv[k] = metrics.auc(Y[vm, k], fused)
            results[(variant, lam)] = (coef, aucv)

    base = macro(names, groups, raw_auc, range(K))
    print("\nfold-8 macro-AUC (fusing every candidate label that has >= 3 training positives):")
    print("%-16s %s" % ("variant", " ".join("%9s" % g for g in SETS)))
    print("%-16s %s" % ("network", " ".join("%9.4f" % base[g] for g in SETS)))
    best, best_key = -1, None
    for key, (coef, aucv) in results.items():
        mac = macro(names, groups, aucv, range(K))
        print("%-16s %s" % ("%s:%g" % key, " ".join("%9.4f" % mac[g] for g in SETS)))
        if mac["all"] > best:
            best, best_key = mac["all"], key
    if a.use:
        v, l = a.use.split(":")
        best_key = (v, float(l))
    coef, aucv = results[best_key]
    # keep the fusion only where it does not lower the fold-8 AUC (validation-split model selection)
    if a.keep == "better":
        keep = [k for k in coef if np.isfinite(aucv[k]) and np.isfinite(raw_auc[k]) and aucv[k] >= raw_auc[k]]
    else:
        keep = sorted(coef)
    final = raw_auc.copy()
    for k in keep:
        final[k] = aucv[k]
    mac = macro(names, groups, final, range(K))
    print("\nshipped: %s:%g, fusion kept for %d of %d fitted labels (--keep %s)" % (
        best_key[0], best_key[1], len(keep), len(coef), a.keep))
    print("%-16s %s" % ("fused (kept)", " ".join("%9.4f" % mac[g] for g in SETS)))
    print("\n%-14s %5s %8s %8s %6s" % ("label", "pos8", "network", "fused", "a"))
    for k in sorted(coef, key=lambda k: names[k]):
        vm = val & (M[:, k] > 0)
        print("%-14s %5d %8.4f %8.4f %6.3f %s" % (names[k], int(Y[vm, k].sum()), raw_auc[k], aucv[k],
                                                 coef[k][0], "kept" if k in keep else "-"))

    # thresholds of the fused labels on fold 8 (as training/metrics.py chooses them)
    thr_model = [float(x) for x in props["aiecg.thresholds.model"].split(",")] \
        if "aiecg.thresholds.model" in props else [float(x) for x in props["aiecg.thresholds"].split(",")]
    thr = list(thr_model)
    for k in keep:
        ak, ck, wk = coef[k]
        vm = val & (M[:, k] > 0)
        p = metrics.sigmoid(ak * L[vm, k] + ck + Z[vm] @ wk)
        thr[k] = metrics.choose_threshold(Y[vm, k], p, None if names[k] in metrics.NORMAL_LABELS else metrics.MIN_SPEC)

    fnames = d["feat_names"]
    lines = ["version=1", "features=" + ",".join(fnames),
             "mu=" + ",".join("%.9g" % x for x in mu), "sd=" + ",".join("%.9g" % x for x in sd)]
    for k in sorted(keep):
        ak, ck, wk = coef[k]
        lines.append("label=%s a=%.9g c=%.9g w=%s" % (names[k], ak, ck, ",".join("%.9g" % x for x in wk)))
    text = "\n".join(lines) + "\n"

    if a.expected:
        ids = [int(x) for x in a.expected_ids.split(",") if x]
        # coefficients as written (rounded to 9 digits), so the C side is compared with what it reads
        mu9 = np.array([float("%.9g" % x) for x in mu]); sd9 = np.array([float("%.9g" % x) for x in sd])
        with open(a.expected, "w") as f:
            f.write("# ecg_id,label,network_prob,fused_prob (training/fuse.py %s:%g)\n" % best_key)
            for i in ids:
                r = int(np.nonzero(d["ids"] == i)[0][0])
                z = zscore(d["F"][r:r + 1], mu9, sd9)[0]
                for k in sorted(keep):
                    ak, ck, wk = coef[k]
                    ak, ck = float("%.9g" % ak), float("%.9g" % ck)
                    wk = np.array([float("%.9g" % x) for x in wk])
                    f.write("%d,%s,%.6f,%.6f\n" % (i, names[k], metrics.sigmoid(L[r, k]),
                                                   metrics.sigmoid(ak * L[r, k] + ck + z @ wk)))
        print("expectations for %d records written to %s" % (len(ids), a.expected))

    if a.report:
        write_report(a, props, names, groups, Y, M, train, val, L, Z, raw_auc, results, base, best_key, keep,
                     coef, final, mac, thr_model, thr)

    if a.write:
        before = [t.SerializeToString() for t in m.graph.initializer]
        newp = dict(props)
        newp["aiecg.fusion"] = text
        newp["aiecg.thresholds.model"] = props.get("aiecg.thresholds.model", props["aiecg.thresholds"])
        newp["aiecg.thresholds"] = ",".join("%.6g" % t for t in thr)
        for key in ["all", "diag", "subdiag", "superdiag", "form", "rhythm", "cinc"]:
            newp["aiecg.val.fused.macro_auc." + key] = "%.4f" % mac[key]
        del m.metadata_props[:]
        onnx.helper.set_model_props(m, newp)
        assert [t.SerializeToString() for t in m.graph.initializer] == before
        onnx.checker.check_model(m)
        dst = a.write_to or a.model
        onnx.save(m, dst)
        print("wrote aiecg.fusion (%d labels, %d bytes) and thresholds into %s" % (len(keep), len(text), dst))


if __name__ == "__main__":
    main()
