"""A small Vision Transformer on Fashion-MNIST, exported to ONNX as a transferbench target (the protocol suite's
transformer-style target, bench/transfer-protocol.json). A benchmark extra, never a runtime dependency: run with a
python3 that has torch (Debian's /usr/bin/python3).

The net follows Dosovitskiy et al. 2010.11929 at toy size: 7x7 patches (16 tokens) embedded to 64, a class token
and learned positions, 2 pre-norm encoder blocks of 4 heads and a 128-wide GELU MLP, a LayerNorm and a linear head.
Adam at 1e-3, batch 128, on the 60,000 training images; the descriptor records the accuracy on the 10,000 test ones.

Usage:
  python3 bench/fashion_vit.py [--epochs 3] [--out targets/fashion-vit] [--threads 1]
"""
import argparse, gzip, hashlib, json, os
import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = '/usr/share/datasets/fashion-mnist'
CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']


def idx(name, offset):
    with gzip.open(os.path.join(DATA, name), 'rb') as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


class ViT(nn.Module):
    def __init__(self, patch=7, dim=64, depth=2, heads=4, mlp=128, classes=10):
        super().__init__()
        self.patch = patch
        tokens = (28 // patch) ** 2
        self.embed = nn.Conv2d(1, dim, patch, stride=patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, mlp, dropout=0.0, activation='gelu', batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        z = self.embed(x).flatten(2).transpose(1, 2)
        z = torch.cat([self.cls.expand(z.shape[0], -1, -1), z], dim=1) + self.pos
        return self.head(self.norm(self.encoder(z)[:, 0]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--out', default=os.path.join(ROOT, 'targets', 'fashion-vit'))
    parser.add_argument('--threads', type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    mean, std = 0.2860, 0.3530
    train_x = torch.tensor(idx('train-images-idx3-ubyte.gz', 16).reshape(-1, 1, 28, 28), dtype=torch.float32) / 255
    train_y = torch.tensor(idx('train-labels-idx1-ubyte.gz', 8).astype(np.int64))
    test_x = torch.tensor(idx('t10k-images-idx3-ubyte.gz', 16).reshape(-1, 1, 28, 28), dtype=torch.float32) / 255
    test_y = torch.tensor(idx('t10k-labels-idx1-ubyte.gz', 8).astype(np.int64))
    net = ViT()
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    for epoch in range(args.epochs):
        order = torch.randperm(len(train_y))
        net.train()
        for start in range(0, len(order), 128):
            batch = order[start:start + 128]
            loss = nn.functional.cross_entropy(net((train_x[batch] - mean) / std), train_y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        print(f'epoch {epoch + 1}: last batch loss {loss.item():.4f}', flush=True)
    net.eval()
    with torch.no_grad():
        correct = sum(int((net((test_x[s:s + 1000] - mean) / std).argmax(1) == test_y[s:s + 1000]).sum())
                      for s in range(0, 10000, 1000))
    accuracy = correct / 10000
    print(f'test accuracy {accuracy:.4f}', flush=True)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, 'model.onnx')
    torch.onnx.export(net, torch.zeros(1, 1, 28, 28), path, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, opset_version=13)
    with open(path, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    descriptor = {
        'name': 'fashion-vit', 'model': 'model.onnx', 'sha256': sha, 'inputName': 'input', 'outputName': 'logits',
        'layout': 'NCHW', 'inputShape': [1, 28, 28], 'inputRange': [0, 1],
        'normalization': {'mean': [mean], 'std': [std]}, 'outputKind': 'logits', 'classNames': CLASSES,
        'dataset': 'fashion-mnist', 'cleanAccuracy': accuracy,
    }
    with open(os.path.join(args.out, 'target.json'), 'w') as f:
        f.write(json.dumps(descriptor, indent=2) + '\n')


if __name__ == '__main__':
    main()
