"""Validation metrics for multi-label ECG classification: per-class ROC AUC (Mann-Whitney,
ties averaged), macro-AUC over a label set (classes with no positive or no negative skipped,
as in Strodthoff et al. 2021), thresholds (F1-optimal with a minimum specificity for labels
that trigger action), F1/Se/Sp at a threshold. numpy/scipy only (no sklearn here)."""
import numpy as np
from scipy.stats import rankdata

# Labels whose positive call means "normal": F1-optimal threshold without the specificity floor.
NORMAL_LABELS = {"stmt:NORM", "stmt:SR", "sub:NORM", "super:NORM", "cinc:NSR"}
MIN_SPEC = 0.9


def auc(y, s):
    y = y.astype(bool)
    npos, nneg = int(y.sum()), int((~y).sum())
    if npos == 0 or nneg == 0:
        return float("nan")
    r = rankdata(s)
    return float((r[y].sum() - npos * (npos + 1) / 2.0) / (npos * nneg))


def confusion(y, p):
    y = y.astype(bool)
    tp = int((p & y).sum()); fp = int((p & ~y).sum()); fn = int((~p & y).sum()); tn = int((~p & ~y).sum())
    se = tp / (tp + fn) if tp + fn else float("nan")
    sp = tn / (tn + fp) if tn + fp else float("nan")
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
    return f1, se, sp


def choose_threshold(y, prob, min_spec=None):
    """Probability threshold maximising F1 on (y, prob); if min_spec is set, only thresholds whose
    specificity >= min_spec are considered. Returns 0.5 where there is no positive."""
    y = y.astype(bool)
    if y.sum() == 0 or (~y).sum() == 0:
        return 0.5
    order = np.argsort(-prob, kind="stable")
    ps, ys = prob[order], y[order]
    tp = np.cumsum(ys); fp = np.cumsum(~ys)
    npos, nneg = tp[-1], fp[-1]
    # only cut between distinct scores
    last = np.r_[ps[1:] != ps[:-1], True]
    f1 = 2 * tp / (tp + npos + fp)
    spec = 1 - fp / nneg
    ok = last.copy()
    if min_spec is not None:
        ok &= spec >= min_spec
    if not ok.any():
        return float(min(1.0, ps[0] + 1e-6))
    i = int(np.argmax(np.where(ok, f1, -1)))
    nxt = ps[i + 1] if i + 1 < len(ps) else 0.0
    return float((ps[i] + nxt) / 2.0)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def evaluate(names, groups, Y, M, logits, thresholds=None):
    """Returns (per-class list of dicts, macro dict group->AUC, thresholds)."""
    prob = sigmoid(logits.astype(np.float64))
    per, th = [], []
    for k, n in enumerate(names):
        m = M[:, k] > 0
        y, p = Y[m, k], prob[m, k]
        t = thresholds[k] if thresholds is not None else choose_threshold(
            y, p, None if n in NORMAL_LABELS else MIN_SPEC)
        th.append(t)
        f1, se, sp = confusion(y, p >= t) if m.any() else (float("nan"),) * 3
        per.append(dict(label=n, groups=groups[k], n=int(m.sum()), pos=int(y.sum()), auc=auc(y, p),
                        threshold=t, f1=f1, se=se, sp=sp))
    macro = {}
    for g in ["all", "diag", "subdiag", "superdiag", "form", "rhythm", "cinc"]:
        a = [c["auc"] for c in per if g in c["groups"] and not np.isnan(c["auc"])]
        macro[g] = float(np.mean(a)) if a else float("nan")
    return per, macro, th
