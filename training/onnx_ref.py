#!/usr/bin/python3
"""A minimal numpy (float64) interpreter for the ONNX ops the aiecg models use, to check an
exported model against PyTorch without onnxruntime (not packaged in Debian 12):

    /usr/bin/python3 training/onnx_ref.py models/ecg12.onnx [--model ecg12]
    ... --write-npy in.npy      (the sample's preprocessed inputs, for `aiecg model run`)
    ... --compare-npy out.npy   (another engine's logits against the stored PyTorch ones)

Runs the ONNX graph on the fold-8 sample inputs (tests/data/model/<model>_val_sample.tsv) and
reports the largest |logit| difference to the stored PyTorch logits. Ops: Conv, Relu, Add,
MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, Concat, Flatten, Gemm, Identity,
Constant, Reshape, Sigmoid, Mul (ONNX operator semantics, opset 13).
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)


def _attrs(n):
    return {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}


def _pool1d(x, k, s, pads, ceil, mode, count_include_pad=0):
    B, C, T = x.shape
    pb, pe = pads
    span = T + pb + pe - k
    n = (-(-span // s) if ceil else span // s) + 1
    if ceil and (n - 1) * s >= T + pb:
        n -= 1
    out = np.empty((B, C, n))
    for i in range(n):
        a = i * s - pb
        e = a + k
        lo, hi = max(a, 0), min(e, T)
        w = x[:, :, lo:hi]
        if mode == "max":
            out[:, :, i] = w.max(-1)
        else:
            div = k if count_include_pad else (hi - lo)
            if count_include_pad:
                div = min(e, T + pe) - a  # windows clipped at the padded end
            out[:, :, i] = w.sum(-1) / div
    return out


def _conv1d(x, w, b, s, pads, dil, group):
    B, C, T = x.shape
    O, Cg, k = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[1])))
    n = (xp.shape[-1] - dil * (k - 1) - 1) // s + 1
    idx = np.arange(n)[:, None] * s + np.arange(k)[None, :] * dil  # [n,k]
    out = np.zeros((B, O, n))
    og = O // group
    for g in range(group):
        cols = xp[:, g * Cg:(g + 1) * Cg][:, :, idx]  # [B,Cg,n,k]
        out[:, g * og:(g + 1) * og] = np.einsum("bcnk,ock->bon", cols, w[g * og:(g + 1) * og])
    if b is not None:
        out += b[None, :, None]
    return out


def run(model, x):
    env = {i.name: numpy_helper.to_array(i).astype(np.float64) for i in model.graph.initializer}
    env[model.graph.input[0].name] = x.astype(np.float64)
    for n in model.graph.node:
        A = _attrs(n)
        ins = [env[i] if i else None for i in n.input]
        op = n.op_type
        if op == "Conv":
            k = ins[1].shape[-1]
            pads = A.get("pads", [0, 0])
            if A.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                raise NotImplementedError("auto_pad")
            y = _conv1d(ins[0], ins[1], ins[2] if len(ins) > 2 else None, A.get("strides", [1])[0],
                        pads, A.get("dilations", [1])[0], A.get("group", 1))
        elif op == "Relu":
            y = np.maximum(ins[0], 0)
        elif op == "Add":
            y = ins[0] + ins[1]
        elif op == "Mul":
            y = ins[0] * ins[1]
        elif op == "Sigmoid":
            y = 1 / (1 + np.exp(-ins[0]))
        elif op in ("MaxPool", "AveragePool"):
            y = _pool1d(ins[0], A["kernel_shape"][0], A.get("strides", [1])[0], A.get("pads", [0, 0]),
                        A.get("ceil_mode", 0), "max" if op == "MaxPool" else "avg", A.get("count_include_pad", 0))
        elif op == "GlobalAveragePool":
            y = ins[0].mean(-1, keepdims=True)
        elif op == "GlobalMaxPool":
            y = ins[0].max(-1, keepdims=True)
        elif op == "Concat":
            y = np.concatenate(ins, axis=A["axis"])
        elif op == "Flatten":
            ax = A.get("axis", 1)
            y = ins[0].reshape(int(np.prod(ins[0].shape[:ax])), -1)
        elif op == "Gemm":
            a_, b_ = ins[0], ins[1]
            if A.get("transA", 0):
                a_ = a_.T
            if A.get("transB", 0):
                b_ = b_.T
            y = A.get("alpha", 1.0) * a_ @ b_
            if len(ins) > 2 and ins[2] is not None:
                y = y + A.get("beta", 1.0) * ins[2]
        elif op == "Identity":
            y = ins[0]
        elif op == "Constant":
            y = numpy_helper.to_array(A["value"]).astype(np.float64)
        elif op == "Reshape":
            y = ins[0].reshape([int(v) for v in ins[1]])
        else:
            raise NotImplementedError(op)
        env[n.output[0]] = y
    return env[model.graph.output[0].name]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("onnx")
    ap.add_argument("--model", default=None)
    ap.add_argument("--data", default=os.path.join(ROOT, "data"))
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--write-npy", metavar="PATH", help="only write the preprocessed sample inputs [n,C,1000] float32")
    ap.add_argument("--compare-npy", metavar="PATH", help="compare logits [n,K] from another engine with the sample")
    ap.add_argument("--label", default="onnx(numpy)")
    a = ap.parse_args()
    import ptbxl
    m = onnx.load(a.onnx)
    props = {p.key: p.value for p in m.metadata_props}
    name = a.model or props["aiecg.model.name"]
    leads = props["aiecg.input.leads"].split(",")
    ch = [ptbxl.LEADS12.index(L) for L in leads]
    rows = [ln.rstrip("\n").split("\t") for ln in open(os.path.join(ROOT, "tests", "data", "model",
                                                                       "%s_val_sample.tsv" % name))
            if not ln.startswith("#")]
    hdr, rows = rows[0], rows[1:a.n + 1]
    assert hdr[5:] == props["aiecg.labels"].split(","), "label list differs between sample and model"
    if a.compare_npy:
        z = np.load(a.compare_npy).reshape(len(rows), -1).astype(np.float64)
        ref = np.array([[float(v) for v in r[5:]] for r in rows])
        worst = float(np.abs(z - ref).max())
        print("%s: %d records, %d outputs, max |%s - pytorch| logit = %.3g" % (
            a.onnx, len(rows), ref.shape[1], a.label, worst))
        sys.exit(0 if worst < 1e-4 else 1)
    if a.write_npy:
        xs = []
        for r in rows:
            adu, gain, base, fs = ptbxl.read_record_adu(os.path.join(a.data, "ptbxl", r[1]))
            xs.append(ptbxl.preprocess(adu, gain, base)[ch])
        np.save(a.write_npy, np.stack(xs).astype(np.float32))
        return
    worst = 0.0
    for r in rows:
        adu, gain, base, fs = ptbxl.read_record_adu(os.path.join(a.data, "ptbxl", r[1]))
        x = ptbxl.preprocess(adu, gain, base)[ch][None]
        assert abs(x.astype(np.float64).sum() - float(r[2])) <= 1e-6 * max(1.0, abs(float(r[2]))) + 1e-3
        z = run(m, x)[0]
        ref = np.array([float(v) for v in r[5:]])
        worst = max(worst, float(np.abs(z - ref).max()))
    print("%s: %d records, %d outputs, max |%s - pytorch| logit = %.3g" % (
        a.onnx, len(rows), len(hdr) - 5, a.label, worst))
    sys.exit(0 if worst < 1e-4 else 1)


if __name__ == "__main__":
    main()
