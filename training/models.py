"""Small fully convolutional 1-D networks for 10 s / 100 Hz ECGs.

xresnet1d follows the xresnet1d family that was best on PTB-XL in Strodthoff et al. 2021
(He et al. 2019 "Bag of tricks" ResNet-D stem and shortcut pooling), shrunk to fit the
product budget (<= 0.1 GFLOP per 10 s record; the C engine must run 250 records/s on one
core). inception1d is the other strong PTB-XL family (Fawaz et al. InceptionTime), also shrunk.
Only ONNX ops that the aiecg engine implements are used: Conv (BatchNorm is folded at
export), Relu, Add, MaxPool/AveragePool, GlobalAveragePool, GlobalMaxPool, Concat, Flatten, Gemm.
Global pooling makes the network length-agnostic (any T >= ~64 samples).
"""
import torch
import torch.nn as nn


def conv_bn(ci, co, k, s=1, act=True):
    layers = [nn.Conv1d(ci, co, k, stride=s, padding=k // 2, bias=False), nn.BatchNorm1d(co)]
    if act:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class ResBlock(nn.Module):
    def __init__(self, ci, co, k, stride):
        super().__init__()
        self.c1 = conv_bn(ci, co, k, stride)
        self.c2 = conv_bn(co, co, k, 1, act=False)
        nn.init.zeros_(self.c2[1].weight)  # zero-init last BN gamma (bag of tricks)
        sc = []
        if stride != 1:
            sc.append(nn.AvgPool1d(3, stride, padding=1, count_include_pad=False))
        if ci != co:
            sc.append(conv_bn(ci, co, 1, 1, act=False))
        self.sc = nn.Sequential(*sc)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.act(self.c2(self.c1(x)) + self.sc(x))


class Head(nn.Module):
    def __init__(self, c, k, p=0.3):
        super().__init__()
        self.avg = nn.AdaptiveAvgPool1d(1)
        self.max = nn.AdaptiveMaxPool1d(1)
        self.drop = nn.Dropout(p)
        self.fc = nn.Linear(2 * c, k)

    def forward(self, x):
        x = torch.cat([self.avg(x), self.max(x)], 1).flatten(1)
        return self.fc(self.drop(x))


class XResNet1d(nn.Module):
    def __init__(self, cin, nout, width=32, k=5, blocks=(1, 1, 1, 1), widths=None):
        super().__init__()
        w = width
        widths = widths or (w * 2, w * 2, w * 4, w * 4)
        self.stem = nn.Sequential(conv_bn(cin, w, k, 2), conv_bn(w, w, k), conv_bn(w, widths[0], k),
                                  nn.MaxPool1d(3, 2, padding=1))
        layers, ci = [], widths[0]
        for i, (co, nb) in enumerate(zip(widths, blocks)):
            for b in range(nb):
                layers.append(ResBlock(ci, co, k, 2 if (b == 0 and i > 0) else 1))
                ci = co
        self.body = nn.Sequential(*layers)
        self.head = Head(ci, nout)

    def forward(self, x):
        return self.head(self.body(self.stem(x)))


class InceptionBlock(nn.Module):
    def __init__(self, ci, nf=16, ks=(39, 19, 9), bottleneck=16):
        super().__init__()
        self.bott = nn.Conv1d(ci, bottleneck, 1, bias=False) if ci > 1 else nn.Identity()
        bc = bottleneck if ci > 1 else ci
        self.convs = nn.ModuleList([nn.Conv1d(bc, nf, k, padding=k // 2, bias=False) for k in ks])
        self.mp = nn.Sequential(nn.MaxPool1d(3, 1, padding=1), nn.Conv1d(ci, nf, 1, bias=False))
        self.bn = nn.BatchNorm1d(nf * (len(ks) + 1))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x):
        b = self.bott(x)
        return self.act(self.bn(torch.cat([c(b) for c in self.convs] + [self.mp(x)], 1)))


class Inception1d(nn.Module):
    """InceptionTime-style; a stride-2 stem keeps it inside the FLOP budget."""
    def __init__(self, cin, nout, nf=16, depth=6):
        super().__init__()
        self.stem = nn.Sequential(conv_bn(cin, 32, 5, 2))
        blocks, sc, ci = [], [], 32
        self.depth = depth
        for d in range(depth):
            blocks.append(InceptionBlock(ci, nf))
            ci = nf * 4
        self.blocks = nn.ModuleList(blocks)
        self.sc = nn.ModuleList([conv_bn(32, ci, 1, act=False), conv_bn(ci, ci, 1, act=False)])
        self.act = nn.ReLU(inplace=True)
        self.head = Head(ci, nout)

    def forward(self, x):
        x = self.stem(x)
        res = x
        for d, b in enumerate(self.blocks):
            x = b(x)
            if d % 3 == 2:
                x = self.act(x + self.sc[d // 3](res))
                res = x
        return self.head(x)


def build(arch, cin, nout):
    if arch == "xresnet1d_s":
        return XResNet1d(cin, nout, width=32, blocks=(1, 1, 1, 1))
    if arch == "xresnet1d_m":
        return XResNet1d(cin, nout, width=32, blocks=(2, 2, 2, 2))
    if arch == "xresnet1d_m24":
        return XResNet1d(cin, nout, width=24, blocks=(2, 2, 2, 2))
    if arch == "xresnet1d_t":
        return XResNet1d(cin, nout, width=16, blocks=(1, 1, 1, 1))
    if arch == "inception1d_s":
        return Inception1d(cin, nout, nf=16, depth=6)
    raise ValueError("unknown arch " + arch)


def count_macs(model, cin, T=1000):
    """Multiply-adds of one forward pass at [1, cin, T] (Conv1d + Linear only)."""
    macs = [0]

    def hook(m, i, o):
        if isinstance(m, nn.Conv1d):
            macs[0] += o.numel() * (m.in_channels // m.groups) * m.kernel_size[0]
        elif isinstance(m, nn.Linear):
            macs[0] += m.in_features * m.out_features
    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, cin, T))
    for h in hs:
        h.remove()
    return macs[0]
