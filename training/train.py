#!/usr/bin/python3
"""Reproducible training of the aiecg interpretation models on PTB-XL (100 Hz).

One command retrains a shipped model from the data with a fixed seed:
    /usr/bin/python3 training/train.py --model ecg12            (12 leads)
    /usr/bin/python3 training/train.py --model lead1 --leads lead1
Split: validation = records of known strat_fold 8; training = known folds 1-7 plus records of
unknown fold. Folds 9 and 10 are never read. Outputs: training/out/<model>.pt, the validation
logits/probabilities, models/<model>.onnx with the aiecg.* metadata (docs/training.md), the
model card docs/models/<model>.md/.json (training/evaluate.py) and a 32-record sample of
PyTorch outputs in tests/data/model/ for the C engine's agreement test.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import ptbxl  # noqa: E402
import models  # noqa: E402
import metrics  # noqa: E402

VAL_FOLD = 8


def load_dataset(data_dir, cache_dir):
    d = ptbxl.build_labels(data_dir)
    adu, gain, base = ptbxl.load_signals(data_dir, d["files"], d["ids"], cache_dir)
    d["X"] = ptbxl.preprocess(adu, gain, base)  # [N,12,1000] mV, median removed
    return d


def predict(model, X, device, bs=256):
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(X), bs):
            out.append(model(torch.from_numpy(X[i:i + bs]).to(device)).float().cpu().numpy())
    return np.concatenate(out).astype(np.float32)


def git_commit():
    try:
        return subprocess.check_output(["git", "-C", ROOT, "rev-parse", "HEAD"], text=True).strip()
    except Exception:
        return "unknown"


def label_groups_string(names, groups):
    return ";".join("%s=%s" % (n, "+".join(g)) for n, g in zip(names, groups))


def export_onnx(model, cin, path, props):
    import onnx
    from onnx import helper
    model = model.cpu().eval()
    x = torch.zeros(1, cin, 1000)
    torch.onnx.export(model, x, path, input_names=["ecg"], output_names=["logits"], opset_version=13,
                      dynamic_axes={"ecg": {0: "batch", 2: "samples"}, "logits": {0: "batch"}},
                      do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL)
    m = onnx.load(path)
    helper.set_model_props(m, props)
    m.doc_string = "aiecg %s: PTB-XL ECG interpretation, logits; see docs/models/%s.md" % (
        props["aiecg.model.name"], props["aiecg.model.name"])
    onnx.checker.check_model(m)
    onnx.save(m, path)
    return sorted({n.op_type for n in m.graph.node})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, "data"),
                    help="dir holding ptbxl/ (records100, scp_statements.csv) and ptbxl-labels/")
    ap.add_argument("--model", default="ecg12", help="model name (file names, metadata)")
    ap.add_argument("--leads", default=None, choices=sorted(ptbxl.LEAD_SETS), help="lead set (default: --model)")
    ap.add_argument("--arch", default="xresnet1d_s")
    ap.add_argument("--epochs", type=int, default=25)
    ap.add_argument("--bs", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=1e-2)
    ap.add_argument("--crop", type=int, default=500, help="training crop length in samples (random position)")
    ap.add_argument("--seed", type=int, default=20201)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--no-export", action="store_true", help="train + validate only (architecture search)")
    ap.add_argument("--version", default="1.0.0")
    ap.add_argument("--from-run", default=None, metavar="NAME",
                    help="skip training: take the weights of an earlier run training/out/NAME.pt (same arguments), "
                         "then validate/export as --model")
    a = ap.parse_args()
    leads = ptbxl.LEAD_SETS[a.leads or a.model]
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()

    d = load_dataset(a.data, a.cache)
    ch = [ptbxl.LEADS12.index(L) for L in leads]
    X = np.ascontiguousarray(d["X"][:, ch])
    Y, M, names, groups = d["Y"], d["M"], d["names"], d["groups"]
    va = np.where(d["folds"] == VAL_FOLD)[0]
    tr = np.where(d["folds"] != VAL_FOLD)[0]
    assert not np.isin(d["folds"], [9, 10]).any()
    print("data: %d train (%d with statements), %d val, %d labels, leads %s, load %.0fs" % (
        len(tr), int(M[tr, 0].sum()), len(va), len(names), ",".join(leads), time.time() - t0), flush=True)

    model = models.build(a.arch, len(ch), len(names)).to(device)
    macs = models.count_macs(model, len(ch))
    model.to(device)
    nparam = sum(p.numel() for p in model.parameters())
    print("arch %s: %.4f GFLOP per 10 s record, %d parameters" % (a.arch, 2 * macs / 1e9, nparam), flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd)
    steps = a.epochs * (len(tr) // a.bs)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=steps, pct_start=0.3)
    T = X.shape[-1]
    hist = []
    if a.from_run:
        ck = torch.load(os.path.join(a.out, "%s.pt" % a.from_run))
        assert ck["arch"] == a.arch and ck["leads"] == leads and ck["args"]["epochs"] == a.epochs
        assert ck["args"]["seed"] == a.seed
        model.load_state_dict(ck["state"])
        prev = json.load(open(os.path.join(a.out, "%s_run.json" % a.from_run)))
        hist, t0 = prev["history"], time.time() - prev["wall_s"]
        print("weights from run %s (trained by the same command with --model %s)" % (a.from_run, a.from_run))
    for ep in range(0 if a.from_run else a.epochs):
        model.train()
        te = time.time()
        perm = rng.permutation(tr)
        tot, nb = 0.0, 0
        for b in range(len(tr) // a.bs):
            idx = np.sort(perm[b * a.bs:(b + 1) * a.bs])
            off = rng.integers(0, T - a.crop + 1, size=len(idx))
            xb = np.stack([X[i, :, o:o + a.crop] for i, o in zip(idx, off)])
            xb = ptbxl.augment(xb, rng)
            xb = torch.from_numpy(xb).to(device)
            yb = torch.from_numpy(Y[idx]).to(device)
            mb = torch.from_numpy(M[idx]).to(device)
            loss = (F.binary_cross_entropy_with_logits(model(xb), yb, reduction="none") * mb).sum() / mb.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss)
            nb += 1
        line = "epoch %d/%d loss %.4f %.0fs" % (ep + 1, a.epochs, tot / nb, time.time() - te)
        if (ep + 1) % 5 == 0 or ep + 1 == a.epochs:
            _, mac, _ = metrics.evaluate(names, groups, Y[va], M[va], predict(model, X[va], device))
            line += " | val " + " ".join("%s %.4f" % (k, v) for k, v in mac.items())
            hist.append(dict(epoch=ep + 1, loss=tot / nb, **{"val_" + k: v for k, v in mac.items()}))
        print(line, flush=True)

    model = model.cpu().eval()
    torch.set_num_threads(a.threads)
    val_logits = predict(model, X[va], "cpu")
    per, mac, th = metrics.evaluate(names, groups, Y[va], M[va], val_logits)
    print("final val macro-AUC: " + " ".join("%s %.4f" % (k, v) for k, v in mac.items()), flush=True)
    train_s = time.time() - t0
    np.save(os.path.join(a.out, "%s_val_logits.npy" % a.model), val_logits)
    np.save(os.path.join(a.out, "%s_val_probs.npy" % a.model), metrics.sigmoid(val_logits).astype(np.float32))
    np.save(os.path.join(a.out, "%s_val_ids.npy" % a.model), d["ids"][va])
    torch.save(dict(state=model.state_dict(), arch=a.arch, leads=leads, names=names, args=vars(a)),
                os.path.join(a.out, "%s.pt" % a.model))
    run = dict(model=a.model, arch=a.arch, leads=leads, epochs=a.epochs, bs=a.bs, lr=a.lr, wd=a.wd, crop=a.crop,
               seed=a.seed, gflop=2 * macs / 1e9, params=nparam, train_records=int(len(tr)),
               train_records_with_statements=int(M[tr, 0].sum()), val_records=int(len(va)),
               wall_s=round(train_s), device=device, threads=a.threads, torch=torch.__version__,
               git=git_commit(), date=datetime.datetime.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"),
               history=hist, names=names, groups=groups, thresholds=th)
    json.dump(run, open(os.path.join(a.out, "%s_run.json" % a.model), "w"), indent=1)
    if a.no_export:
        return
    props = {
        "aiecg.model.name": a.model,
        "aiecg.model.version": a.version,
        "aiecg.labels": ",".join(names),
        "aiecg.label_groups": label_groups_string(names, groups),
        "aiecg.thresholds": ",".join("%.6g" % t for t in th),
        "aiecg.input.leads": ",".join(leads),
        "aiecg.input.fs": "100",
        "aiecg.input.samples": "1000",
        "aiecg.input.units": "mV",
        "aiecg.input.preprocess": "per-lead median removed",
        "aiecg.output": "logits",
        "aiecg.arch": a.arch,
        "aiecg.provenance": ("data=PTB-XL 1.0.3 100 Hz (records100), labels=data/ptbxl-labels; "
                             "train=strat_fold 1-7 + unknown fold (%d records), val=strat_fold 8 (%d), "
                             "folds 9-10 unused; seed=%d; epochs=%d; git=%s; date=%s; torch=%s; device=%s") % (
            len(tr), len(va), a.seed, a.epochs, run["git"], run["date"], torch.__version__, device),
    }
    for k, v in mac.items():
        props["aiecg.val.macro_auc." + k] = "%.4f" % v
    onnx_path = os.path.join(ROOT, "models", "%s.onnx" % a.model)
    ops = export_onnx(model, len(ch), onnx_path, props)
    print("exported %s (%d bytes), ops: %s" % (onnx_path, os.path.getsize(onnx_path), ",".join(ops)), flush=True)
    run["onnx_ops"] = ops
    json.dump(run, open(os.path.join(a.out, "%s_run.json" % a.model), "w"), indent=1)
    import evaluate
    evaluate.main(["--model", a.model, "--data", a.data, "--out", a.out], dataset=d)


if __name__ == "__main__":
    main()
