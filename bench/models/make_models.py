#!/usr/bin/python3
"""Builds the ECG-style networks used by the nn tests and benchmarks with
PyTorch and exports them to ONNX, together with a reference input/output
pair (.npy) computed by PyTorch itself.

Networks (weights random, BatchNorm statistics randomised so folding matters):
  ribeiro   Ribeiro et al., Nat Commun 2020: conv k16 + 4 residual blocks with
            max-pool/1x1-conv skip, 12 x 4096 input.
  xresnet   xresnet1d (Strodthoff et al. 2021, after He et al. 2019 "bag of
            tricks"): 3-conv stem, bottleneck blocks, avg-pool shortcut.
  seresnet  ResNet blocks with squeeze-and-excitation (Hu et al. 2018).
  inception inception1d blocks (Strodthoff et al. 2021, after InceptionTime):
            bottleneck + k 39/19/9 convs + max-pool branch, concatenated.
  crnn      convolutional front-end (stride 4) + bidirectional LSTM or GRU
            over the downsampled time axis + linear head on the mean and last
            hidden states (the CRNN family of ECG classifiers, e.g. Zihlmann
            et al. 2017, CinC "Convolutional recurrent neural networks for
            electrocardiogram classification").
Usage:
  make_models.py --small OUTDIR   small variants for tests (< 2 MB each)
  make_models.py --rnn OUTDIR     LSTM / GRU test models (< 300 KB each) with
                                  two input/output pairs each (batch 3 x 1000
                                  samples, batch 1 x 600 samples)
                                  and single-node LSTM/GRU/RNN attribute cases
                                  with outputs from a float64 reference
  make_models.py --check-rnn-reference   that reference vs libonnx-testdata
  make_models.py --bench OUTDIR   full-size variants for bench/run_ort_bench.sh
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)


def rand_bn(m):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm1d):
            with torch.no_grad():
                mod.running_mean.uniform_(-0.2, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)


class RibeiroBlock(nn.Module):
    def __init__(self, cin, cout, down, k):
        super().__init__()
        self.c1 = nn.Conv1d(cin, cout, k, padding=k // 2 - 1 if k % 2 == 0 else k // 2, bias=False)
        self.b1 = nn.BatchNorm1d(cout)
        self.c2 = nn.Conv1d(cout, cout, k, stride=down, padding=(k - down + 1) // 2 if k % 2 == 0 else k // 2, bias=False)
        self.b2 = nn.BatchNorm1d(cout)
        self.pool = nn.MaxPool1d(down, down) if down > 1 else nn.Identity()
        self.skip = nn.Conv1d(cin, cout, 1, bias=False) if cin != cout else nn.Identity()
        self.drop = nn.Dropout(0.2)

    def forward(self, x, y):
        y = self.skip(self.pool(y))
        x = self.drop(torch.relu(self.b1(self.c1(x))))
        x = self.c2(x)
        x = x + y
        y = x
        x = self.drop(torch.relu(self.b2(x)))
        return x, y


class Ribeiro(nn.Module):
    def __init__(self, chans=(64, 128, 196, 256, 320), n=4096, k=16, ncls=6):
        super().__init__()
        self.c0 = nn.Conv1d(12, chans[0], k + 1, padding=k // 2, bias=False)
        self.b0 = nn.BatchNorm1d(chans[0])
        self.blocks = nn.ModuleList([RibeiroBlock(chans[i], chans[i + 1], 4, k + 1) for i in range(4)])
        self.fc = nn.Linear(chans[-1] * (n // 256), ncls)

    def forward(self, x):
        x = torch.relu(self.b0(self.c0(x)))
        y = x
        for b in self.blocks:
            x, y = b(x, y)
        x = torch.flatten(x, 1)
        return torch.sigmoid(self.fc(x))


class XBottleneck(nn.Module):
    def __init__(self, cin, mid, cout, stride, k=5):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(cin, mid, 1, bias=False), nn.BatchNorm1d(mid), nn.ReLU(),
            nn.Conv1d(mid, mid, k, stride=stride, padding=k // 2, bias=False), nn.BatchNorm1d(mid), nn.ReLU(),
            nn.Conv1d(mid, cout, 1, bias=False), nn.BatchNorm1d(cout))
        sc = []
        if stride > 1:
            sc.append(nn.AvgPool1d(stride, stride, ceil_mode=True))
        if cin != cout:
            sc += [nn.Conv1d(cin, cout, 1, bias=False), nn.BatchNorm1d(cout)]
        self.sc = nn.Sequential(*sc)

    def forward(self, x):
        return torch.relu(self.conv(x) + self.sc(x))


class XResNet1d(nn.Module):
    def __init__(self, layers=(3, 4, 6, 3), width=64, stem=(32, 32, 64), expansion=4, ncls=71, k=5):
        super().__init__()
        s = []
        cin = 12
        for i, c in enumerate(stem):
            s += [nn.Conv1d(cin, c, k, stride=2 if i == 0 else 1, padding=k // 2, bias=False), nn.BatchNorm1d(c), nn.ReLU()]
            cin = c
        s.append(nn.MaxPool1d(3, 2, 1))
        self.stem = nn.Sequential(*s)
        blocks = []
        cin = stem[-1]
        for i, n in enumerate(layers):
            mid = width * (2 ** i) if i < 2 else width * 2
            cout = mid * expansion
            for j in range(n):
                blocks.append(XBottleneck(cin, mid, cout, 2 if (j == 0 and i > 0) else 1, k))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.BatchNorm1d(2 * cin), nn.Dropout(0.25), nn.Linear(2 * cin, 128), nn.ReLU(),
                                  nn.BatchNorm1d(128), nn.Dropout(0.5), nn.Linear(128, ncls))
        self.cin = cin

    def forward(self, x):
        x = self.blocks(self.stem(x))
        x = torch.cat([torch.amax(x, 2), torch.mean(x, 2)], 1)
        return self.head(x)


class SEBlock(nn.Module):
    def __init__(self, c, k=7, r=8):
        super().__init__()
        self.c1 = nn.Conv1d(c, c, k, padding=k // 2, bias=False)
        self.b1 = nn.BatchNorm1d(c)
        self.c2 = nn.Conv1d(c, c, k, padding=k // 2, bias=False)
        self.b2 = nn.BatchNorm1d(c)
        self.fc1 = nn.Linear(c, c // r)
        self.fc2 = nn.Linear(c // r, c)

    def forward(self, x):
        y = torch.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        s = torch.mean(y, 2)
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))
        y = y * s.unsqueeze(2)
        return torch.relu(x + y)


class SEResNet(nn.Module):
    def __init__(self, c=32, nblocks=4, ncls=5):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv1d(12, c, 15, stride=2, padding=7, bias=False), nn.BatchNorm1d(c), nn.ReLU(),
                                  nn.MaxPool1d(3, 2, 1))
        self.blocks = nn.Sequential(*[SEBlock(c) for _ in range(nblocks)])
        self.fc = nn.Linear(c, ncls)

    def forward(self, x):
        x = self.blocks(self.stem(x))
        return self.fc(torch.mean(x, 2))


class InceptionBlock(nn.Module):
    def __init__(self, cin, nf=32, bneck=32, ks=(39, 19, 9)):
        super().__init__()
        self.bott = nn.Conv1d(cin, bneck, 1, bias=False)
        self.convs = nn.ModuleList([nn.Conv1d(bneck, nf, k, padding=k // 2, bias=False) for k in ks])
        self.mp = nn.Sequential(nn.MaxPool1d(3, 1, 1), nn.Conv1d(cin, nf, 1, bias=False))
        self.bn = nn.BatchNorm1d(nf * (len(ks) + 1))

    def forward(self, x):
        b = self.bott(x)
        y = torch.cat([c(b) for c in self.convs] + [self.mp(x)], 1)
        return torch.relu(self.bn(y))


class Inception1d(nn.Module):
    def __init__(self, depth=6, nf=32, ncls=5):
        super().__init__()
        self.blocks = nn.ModuleList()
        self.sc = nn.ModuleList()
        cin = 12
        for d in range(depth):
            self.blocks.append(InceptionBlock(cin, nf))
            cin = nf * 4
            if d % 3 == 2:
                self.sc.append(nn.Sequential(nn.Conv1d(12 if d == 2 else cin, cin, 1, bias=False), nn.BatchNorm1d(cin)))
        self.fc = nn.Linear(2 * cin, ncls)

    def forward(self, x):
        res = x
        for d, b in enumerate(self.blocks):
            x = b(x)
            if d % 3 == 2:
                x = torch.relu(x + self.sc[d // 3](res))
                res = x
        x = torch.cat([torch.amax(x, 2), torch.mean(x, 2)], 1)
        return self.fc(x)


class CRNN(nn.Module):
    def __init__(self, cell="lstm", cin=12, c=16, hidden=24, layers=1, ncls=5):
        super().__init__()
        self.conv = nn.Conv1d(cin, c, 7, stride=2, padding=3, bias=False)
        self.bn = nn.BatchNorm1d(c)
        self.conv2 = nn.Conv1d(c, c, 5, stride=2, padding=2)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(c, hidden, num_layers=layers, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(4 * hidden, ncls)

    def forward(self, x):
        x = torch.relu(self.bn(self.conv(x)))
        x = torch.relu(self.conv2(x))          # [N, c, T/4]
        y, _ = self.rnn(x.transpose(1, 2))     # [N, T/4, 2 hidden]
        x = torch.cat([torch.mean(y, 1), y[:, -1, :]], 1)
        return self.fc(x)


def export_rnn(model, path, opset):
    """Dynamic batch and length; saves (3 x 12 x 1000) as .in/.out and (1 x 12 x 600) as .in2/.out2."""
    model.eval()
    rand_bn(model)
    x = torch.randn(3, 12, 1000)
    x2 = torch.randn(1, 12, 600)
    with torch.no_grad():
        y = model(x)
        y2 = model(x2)
    torch.onnx.export(model, x, path + ".onnx", opset_version=opset, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch", 2: "length"}, "y": {0: "batch"}})
    np.save(path + ".in.npy", x.numpy().astype(np.float32))
    np.save(path + ".out.npy", y.numpy().astype(np.float32))
    np.save(path + ".in2.npy", x2.numpy().astype(np.float32))
    np.save(path + ".out2.npy", y2.numpy().astype(np.float32))
    print(path, "params", sum(p.numel() for p in model.parameters()), "bytes", os.path.getsize(path + ".onnx"))


# ---- single-node LSTM / GRU / RNN cases with an independent float64 reference ----
ACT_USES = {"Affine": (1.0, 0.0), "LeakyRelu": (0.01, None), "ThresholdedRelu": (1.0, None),
            "ScaledTanh": (1.0, 1.0), "HardSigmoid": (0.2, 0.5), "Elu": (1.0, None)}


def np_act(name, x, a, b):
    if name == "Sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "Tanh":
        return np.tanh(x)
    if name == "Relu":
        return np.maximum(x, 0.0)
    if name == "Affine":
        return a * x + b
    if name == "LeakyRelu":
        return np.where(x >= 0, x, a * x)
    if name == "ThresholdedRelu":
        return np.where(x > a, x, 0.0)
    if name == "ScaledTanh":
        return a * np.tanh(b * x)
    if name == "HardSigmoid":
        return np.clip(a * x + b, 0.0, 1.0)
    if name == "Elu":
        return np.where(x >= 0, x, a * (np.exp(x) - 1.0))
    if name == "Softsign":
        return x / (1.0 + np.abs(x))
    if name == "Softplus":
        return np.log1p(np.exp(x))
    raise ValueError(name)


def rnn_reference(op, X, W, R, B, lens, h0, c0, P, H, direction, layout, clip, coupled, lbr, acts, alphas, betas):
    """ONNX LSTM/GRU/RNN in float64, written from Operators.md independently of ops_rnn.c."""
    X = X.astype(np.float64)
    if layout:
        X = X.transpose(1, 0, 2)
    T, NB, _ = X.shape
    D = 2 if direction == "bidirectional" else 1
    G = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
    per = {"LSTM": 3, "GRU": 2, "RNN": 1}[op]
    if h0 is not None and layout:
        h0 = h0.transpose(1, 0, 2)
    if c0 is not None and layout:
        c0 = c0.transpose(1, 0, 2)
    ia = ib = 0
    fs = []
    for name in acts:
        a, b = 0.0, 0.0
        if name in ACT_USES:
            a, b = ACT_USES[name]
            if alphas is not None and ia < len(alphas):
                a = alphas[ia]
                ia += 1
            if b is not None and betas is not None and ib < len(betas):
                b = betas[ib]
                ib += 1
        fs.append((name, np.float64(np.float32(a)), np.float64(np.float32(b if b is not None else 0.0))))
    Y = np.zeros((T, D, NB, H))
    Yh = np.zeros((D, NB, H))
    Yc = np.zeros((D, NB, H))
    cl = (lambda v: np.clip(v, -clip, clip)) if clip else (lambda v: v)
    for d in range(D):
        f, g, hh = [fs[d * per + k] if k < per else None for k in range(3)]
        act = lambda spec, v: np_act(spec[0], v, spec[1], spec[2])
        rev = direction == "reverse" or d == 1
        Wd, Rd = W[d].astype(np.float64), R[d].astype(np.float64)
        Wb = B[d, :G * H].astype(np.float64) if B is not None else np.zeros(G * H)
        Rb = B[d, G * H:].astype(np.float64) if B is not None else np.zeros(G * H)
        for b in range(NB):
            h = h0[d, b].astype(np.float64) if h0 is not None else np.zeros(H)
            c = c0[d, b].astype(np.float64) if c0 is not None else np.zeros(H)
            L = int(lens[b]) if lens is not None else T
            for t in (reversed(range(L)) if rev else range(L)):
                x = X[t, b]
                if op == "LSTM":
                    z = Wd @ x + Rd @ h + Wb + Rb
                    gi, go, gf, gc = z[:H], z[H:2 * H], z[2 * H:3 * H], z[3 * H:]
                    if P is not None:
                        gi = gi + P[d, :H] * c
                        gf = gf + P[d, 2 * H:] * c
                    i = act(f, cl(gi))
                    fg = 1.0 - i if coupled else act(f, cl(gf))
                    c = fg * c + i * act(g, cl(gc))
                    if P is not None:
                        go = go + P[d, H:2 * H] * c
                    h = act(f, cl(go)) * act(hh, c)
                elif op == "GRU":
                    zx = Wd @ x + Wb
                    zh = Rd[:2 * H] @ h + Rb[:2 * H]
                    zg = act(f, cl(zx[:H] + zh[:H]))
                    rg = act(f, cl(zx[H:2 * H] + zh[H:2 * H]))
                    if lbr:
                        cand = zx[2 * H:] + rg * (Rd[2 * H:] @ h + Rb[2 * H:])
                    else:
                        cand = zx[2 * H:] + Rd[2 * H:] @ (rg * h) + Rb[2 * H:]
                    h = (1.0 - zg) * act(g, cl(cand)) + zg * h
                else:
                    h = act(f, cl(Wd @ x + Rd @ h + Wb + Rb))
                Y[t, d, b] = h
            Yh[d, b] = h
            Yc[d, b] = c
    if layout:
        Y, Yh, Yc = Y.transpose(2, 0, 1, 3), Yh.transpose(1, 0, 2), Yc.transpose(1, 0, 2)
    outs = [Y, Yh] + ([Yc] if op == "LSTM" else [])
    return [o.astype(np.float32) for o in outs]


RNN_CASES = [
    # name, op, T, B, I, H, direction, layout, extras
    ("lstm_bidir_full", "LSTM", 5, 3, 4, 3, "bidirectional", 0,
     dict(bias=True, lens=[5, 2, 0], h0=True, c0=True, P=True)),
    ("lstm_rev_clip_coupled", "LSTM", 6, 2, 3, 4, "reverse", 1,
     dict(bias=True, clip=0.7, coupled=1, acts=["HardSigmoid", "ScaledTanh", "Softsign"],
          alphas=[0.3, 1.2], betas=[0.6, 0.8])),
    ("gru_fwd_layout1", "GRU", 7, 2, 3, 5, "forward", 1, dict(bias=True, lens=[4, 7], h0=True)),
    ("gru_bidir_lbr_clip", "GRU", 4, 3, 2, 3, "bidirectional", 0,
     dict(bias=True, lbr=1, clip=1.0, acts=["Sigmoid", "Tanh", "HardSigmoid", "Elu"], alphas=[0.25, 0.9],
          betas=[0.45])),
    ("rnn_bidir_relu", "RNN", 5, 2, 3, 4, "bidirectional", 0,
     dict(bias=True, lens=[3, 5], acts=["Relu", "LeakyRelu"], alphas=[0.2])),
    ("rnn_rev_affine", "RNN", 4, 1, 2, 3, "reverse", 1,
     dict(h0=True, acts=["Affine"], alphas=[0.5], betas=[0.1])),
]


def check_rnn_reference(root="/usr/share/libonnx-testdata/data/node"):
    """Prints max |rnn_reference - expected| for libonnx-testdata's LSTM/GRU/RNN cases (forward, default activations)."""
    import glob
    import onnx
    from onnx import numpy_helper
    worst = 0.0
    for d in sorted(glob.glob(root + "/test_*")):
        if not any(k in os.path.basename(d) for k in ("lstm", "gru", "rnn")):
            continue
        m = onnx.load(d + "/model.onnx")
        n = m.graph.node[0]
        at = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
        ins = [numpy_helper.to_array(onnx.load_tensor(f)) for f in sorted(glob.glob(d + "/test_data_set_0/input_*.pb"))]
        v = dict(zip([i.name for i in m.graph.input], ins))
        op = n.op_type
        acts = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}[op]
        outs = rnn_reference(op, v["X"], v["W"], v["R"], v.get("B"), v.get("sequence_lens"), v.get("initial_h"),
                             v.get("initial_c"), v.get("P"), at["hidden_size"], "forward", at.get("layout", 0), None,
                             0, at.get("linear_before_reset", 0), acts, None, None)
        exp = [numpy_helper.to_array(onnx.load_tensor(f)) for f in sorted(glob.glob(d + "/test_data_set_0/output_*.pb"))]
        for k, e in enumerate(exp):
            name = m.graph.output[k].name
            diff = float(np.abs(outs[list(n.output).index(name)] - e).max())
            worst = max(worst, diff)
            print(os.path.basename(d), name, "max |diff|", diff)
    print("worst", worst)


def export_rnn_cases(out):
    """One node per case; graph outputs Y, Y_h (, Y_c); .out.npy is their concatenation, flattened."""
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    rng = np.random.RandomState(4)
    for name, op, T, NB, I, H, direction, layout, ex in RNN_CASES:
        D = 2 if direction == "bidirectional" else 1
        G = {"LSTM": 4, "GRU": 3, "RNN": 1}[op]
        X = rng.uniform(-1, 1, (NB, T, I) if layout else (T, NB, I)).astype(np.float32)
        W = rng.uniform(-0.6, 0.6, (D, G * H, I)).astype(np.float32)
        R = rng.uniform(-0.6, 0.6, (D, G * H, H)).astype(np.float32)
        hs = (NB, D, H) if layout else (D, NB, H)
        B = rng.uniform(-0.3, 0.3, (D, 2 * G * H)).astype(np.float32) if ex.get("bias") else None
        lens = np.array(ex["lens"], dtype=np.int32) if "lens" in ex else None
        h0 = rng.uniform(-0.5, 0.5, hs).astype(np.float32) if ex.get("h0") else None
        c0 = rng.uniform(-0.5, 0.5, hs).astype(np.float32) if ex.get("c0") else None
        P = rng.uniform(-0.5, 0.5, (D, 3 * H)).astype(np.float32) if ex.get("P") else None
        per = {"LSTM": 3, "GRU": 2, "RNN": 1}[op]
        acts = ex.get("acts") or ({"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"],
                                   "RNN": ["Tanh"]}[op] * D)
        assert len(acts) == per * D
        outs = rnn_reference(op, X, W, R, B, lens, h0, c0, P, H, direction, layout, ex.get("clip"),
                             ex.get("coupled", 0), ex.get("lbr", 0), acts, ex.get("alphas"), ex.get("betas"))
        inits = [numpy_helper.from_array(W, "W"), numpy_helper.from_array(R, "R")]
        names = ["X", "W", "R"]
        for nm, arr in (("B", B), ("sequence_lens", lens), ("initial_h", h0), ("initial_c", c0), ("P", P)):
            if op != "LSTM" and nm in ("initial_c", "P"):
                continue
            if arr is not None:
                inits.append(numpy_helper.from_array(arr, nm))
                names.append(nm)
            else:
                names.append("")
        while names[-1] == "":
            names.pop()
        onames = ["Y", "Y_h"] + (["Y_c"] if op == "LSTM" else [])
        attrs = dict(hidden_size=H, direction=direction, layout=layout)
        if ex.get("acts"):
            attrs["activations"] = acts
        for k, key in (("alphas", "activation_alpha"), ("betas", "activation_beta")):
            if k in ex:
                attrs[key] = ex[k]
        if "clip" in ex:
            attrs["clip"] = ex["clip"]
        if ex.get("coupled"):
            attrs["input_forget"] = 1
        if op == "GRU":
            attrs["linear_before_reset"] = ex.get("lbr", 0)
        node = helper.make_node(op, names, onames, name=name, **attrs)
        vi = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(o.shape)) for n, o in zip(onames, outs)]
        graph = helper.make_graph([node], name, [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(X.shape))],
                                  vi, inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])
        onnx.checker.check_model(model)
        onnx.save(model, os.path.join(out, "rnn_" + name + ".onnx"))
        np.save(os.path.join(out, "rnn_" + name + ".in.npy"), X)
        np.save(os.path.join(out, "rnn_" + name + ".out.npy"), np.concatenate([o.ravel() for o in outs]))
        print("rnn_" + name, [o.shape for o in outs])
    # import errors the test expects, each naming node, op and attribute
    X = helper.make_tensor_value_info("X", TensorProto.FLOAT, [2, 1, 3])
    W = numpy_helper.from_array(np.zeros((1, 8, 3), np.float32), "W")
    R = numpy_helper.from_array(np.zeros((1, 8, 2), np.float32), "R")
    bad = [("bad_activation", "LSTM", dict(hidden_size=2, activations=["Sigmoid", "Swish", "Tanh"])),
           ("bad_direction", "LSTM", dict(hidden_size=2, direction="sideways")),
           ("bad_attribute", "LSTM", dict(hidden_size=2, linear_before_reset=1))]
    for name, op, attrs in bad:
        node = helper.make_node(op, ["X", "W", "R"], ["Y"], name=name, **attrs)
        graph = helper.make_graph([node], name, [X], [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)],
                                  [W, R])
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]),
                  os.path.join(out, "rnn_" + name + ".onnx"))


def export(model, shape, path, opset, dynamic_len=False):
    model.eval()
    rand_bn(model)
    x = torch.randn(*shape)
    with torch.no_grad():
        y = model(x)
    axes = {0: "batch"}
    if dynamic_len:
        axes[2] = "length"
    torch.onnx.export(model, x, path + ".onnx", opset_version=opset, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": axes, "y": {0: "batch"}})
    np.save(path + ".in.npy", x.numpy().astype(np.float32))
    np.save(path + ".out.npy", y.numpy().astype(np.float32))
    print(path, tuple(shape), "params", sum(p.numel() for p in model.parameters()),
          "bytes", os.path.getsize(path + ".onnx"))


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "--check-rnn-reference":
        check_rnn_reference()
        return
    if len(sys.argv) != 3 or sys.argv[1] not in ("--small", "--bench", "--rnn"):
        print(__doc__)
        sys.exit(2)
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    if sys.argv[1] == "--rnn":
        export_rnn(CRNN("lstm"), os.path.join(out, "crnn_lstm"), 14)
        export_rnn(CRNN("gru", layers=2), os.path.join(out, "crnn_gru"), 17)
        export_rnn_cases(out)
    elif sys.argv[1] == "--small":
        export(Ribeiro(chans=(16, 24, 32, 40, 48), n=4096), (2, 12, 4096), os.path.join(out, "ribeiro_small"), 13)
        export(XResNet1d(layers=(1, 1, 1, 1), width=8, stem=(8, 8, 16), ncls=7), (2, 12, 1000),
               os.path.join(out, "xresnet_small"), 17, dynamic_len=True)
        export(SEResNet(c=16, nblocks=2), (3, 12, 500), os.path.join(out, "seresnet_small"), 15, dynamic_len=True)
        export(Inception1d(depth=3, nf=8), (1, 12, 250), os.path.join(out, "inception_small"), 14, dynamic_len=True)
    else:
        export(Ribeiro(), (1, 12, 4096), os.path.join(out, "ribeiro"), 13)
        export(XResNet1d(), (1, 12, 1000), os.path.join(out, "xresnet1d50_1000"), 17, dynamic_len=True)
        export(XResNet1d(), (1, 12, 250), os.path.join(out, "xresnet1d50_250"), 17, dynamic_len=True)
        export(SEResNet(c=64, nblocks=8), (1, 12, 1000), os.path.join(out, "seresnet"), 15, dynamic_len=True)
        export(Inception1d(), (1, 12, 1000), os.path.join(out, "inception1d"), 14, dynamic_len=True)


if __name__ == "__main__":
    main()
