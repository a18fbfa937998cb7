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
Usage:
  make_models.py --small OUTDIR   small variants for tests (< 2 MB each)
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
    if len(sys.argv) != 3 or sys.argv[1] not in ("--small", "--bench"):
        print(__doc__)
        sys.exit(2)
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    if sys.argv[1] == "--small":
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
