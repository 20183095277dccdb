"""PyTorch fixtures for transferbench's ONNX gradient builder (a benchmark/test extra, never a
runtime dependency: run with a python3 that has torch and onnx, e.g. Debian's /usr/bin/python3).

For each small net below it writes test/fixtures/torch/<net>/:
  model.onnx   torch.onnx export, opset 13, dynamic batch ("input" -> "logits")
  target.json  descriptor in transferbench's target.json format (layout, range, normalisation)
  cases.json   header: the batches and, per array, dtype, shape and byte offset into cases.bin
  cases.bin    little-endian float32 / int32 arrays: images (NHWC in [0, 1], as transferbench
               holds them), labels, logits, and PyTorch autograd gradients d(loss_i)/d(image_i)
               with respect to those NHWC [0, 1] images, through the descriptor's range mapping,
               per-channel normalisation and layout change, for each loss of
               src/compute/surrogate.ts (cross-entropy, cw-untargeted, cw-targeted with a kappa).

Usage (the committed fixtures were written by the first two lines):
  node bench/export_split.mjs /tmp/mnist-split          # the attacker's digits of a seed-0 suite
  python3 bench/torch_fixtures.py --mnist-train /tmp/mnist-split   # every fixture; mnist-cnn is
                                                        # trained on DIR/images.npy, DIR/labels.npy
  python3 bench/torch_fixtures.py --only avgpool        # one fixture
  python3 bench/torch_fixtures.py --resnet18 OUT        # ResNet-18-style CIFAR-10 net (random
                                                        # weights, ~45 MB) into OUT/, not committed
  python3 bench/torch_fixtures.py --vit-small OUT       # the benchmark's ViT-small (~86 MB), not committed
"""
import argparse, hashlib, io, json, os, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import onnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, 'test', 'fixtures', 'torch')
MAX_BYTES = 1 << 20


# ---------------------------------------------------------------- the nets

class ResidualBN(nn.Module):
    """Pre-activation residual block (BN-ReLU-Conv twice, identity skip) and a strided
    projection block. Pre-activation keeps BatchNormalization nodes in the export: a BN right
    after a Conv is folded into the Conv by torch.onnx's eval-mode peephole pass."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1, self.conv1 = nn.BatchNorm2d(8), nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2, self.conv2 = nn.BatchNorm2d(8), nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(8)
        self.down = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.project = nn.Conv2d(8, 16, 1, stride=2, bias=False)
        self.bn4 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, classes)

    def forward(self, x):
        x = self.stem(x)
        x = x + self.conv2(F.relu(self.bn2(self.conv1(F.relu(self.bn1(x))))))
        h = F.relu(self.bn3(x))
        x = self.down(h) + self.project(h)
        x = F.relu(self.bn4(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class DepthwiseSeparable(nn.Module):
    """MobileNet-style: depthwise 3x3 (groups = channels, strided and dilated), pointwise 1x1,
    ReLU6 (Clip), a folded Conv+BN and an unfolded BN."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 12, 3, stride=2, padding=1)
        self.dw1 = nn.Conv2d(12, 12, 3, padding=1, groups=12)
        self.bn1 = nn.BatchNorm2d(12)
        self.pw1 = nn.Conv2d(12, 24, 1)
        self.dw2 = nn.Conv2d(24, 24, 3, stride=2, padding=2, dilation=2, groups=24, bias=False)
        self.pw2 = nn.Conv2d(24, 24, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(24)
        self.fc = nn.Linear(24, classes)

    def forward(self, x):
        x = F.relu6(self.stem(x))
        x = F.relu6(self.pw1(F.relu6(self.bn1(self.dw1(x)))))
        x = F.relu6(self.bn2(self.pw2(self.dw2(x))))
        return self.fc(x.mean(dim=(2, 3)))


class InceptionConcat(nn.Module):
    """Inception-style block: 1x1, 3x3, 5x5 and overlapping 3x3/1 max-pool branches joined by
    Concat on channels, then GlobalAveragePool. Ends in Softmax (outputKind probabilities)."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.b1 = nn.Conv2d(8, 4, 1)
        self.b3a, self.b3b = nn.Conv2d(8, 4, 1), nn.Conv2d(4, 6, 3, padding=1)
        self.b5a, self.b5b = nn.Conv2d(8, 2, 1), nn.Conv2d(2, 4, 5, padding=2)
        self.bp = nn.Conv2d(8, 4, 1)
        self.fc = nn.Linear(18, classes)

    def forward(self, x):
        x = F.relu(self.stem(x))
        branches = [
            F.relu(self.b1(x)),
            F.relu(self.b3b(F.relu(self.b3a(x)))),
            F.relu(self.b5b(F.relu(self.b5a(x)))),
            F.relu(self.bp(F.max_pool2d(x, 3, stride=1, padding=1))),
        ]
        x = torch.cat(branches, dim=1)
        return F.softmax(self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)), dim=1)


class AvgPoolNet(nn.Module):
    """Average pooling in its forms (non-overlapping 2x2, overlapping 3x3/2 with padding counted
    and not), with Tanh, Sigmoid and LeakyReLU, and a 3-D Linear (MatMul + Add)."""

    def __init__(self, classes=10):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1)
        self.c3 = nn.Conv2d(8, 8, 3, padding=1)
        self.mix = nn.Linear(8, 8)
        self.fc = nn.Linear(8 * 3 * 3, classes)

    def forward(self, x):
        x = F.avg_pool2d(torch.tanh(self.c1(x)), 2)
        x = F.avg_pool2d(torch.sigmoid(self.c2(x)), 3, stride=2, padding=1, count_include_pad=True)
        x = F.avg_pool2d(F.leaky_relu(self.c3(x), 0.1), 3, stride=1, padding=1, count_include_pad=False)
        x = self.mix(x.permute(0, 2, 3, 1))  # [N, H, W, C] @ W: a MatMul over the last axis
        return self.fc(torch.flatten(x, 1))


class NormalisedNCHW(nn.Module):
    """A net that expects ImageNet-style normalised input: the descriptor maps [0, 1] onto
    [0, 255] and normalises per channel; the graph itself has no normalisation."""

    def __init__(self, classes=10):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 5, stride=2, padding=2)
        self.c2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc1 = nn.Linear(16 * 2 * 2, 32)
        self.fc2 = nn.Linear(32, classes)

    def forward(self, x):
        x = F.leaky_relu(self.c1(x), 0.2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


class MnistCnn(nn.Module):
    """MNIST-like CNN 32c3-pool-64c3-pool-64-10 with dropout; flattens with reshape(size(0), -1)
    the older idiom that exports a Shape/Gather/Unsqueeze/Concat sub-graph feeding Reshape."""

    def __init__(self, classes=10):
        super().__init__()
        self.c1 = nn.Conv2d(1, 32, 3)
        self.c2 = nn.Conv2d(32, 64, 3)
        self.fc1 = nn.Linear(64 * 5 * 5, 64)
        self.drop = nn.Dropout(0.25)
        self.fc2 = nn.Linear(64, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = x.reshape(x.size(0), -1)
        return self.fc2(self.drop(F.relu(self.fc1(x))))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18Cifar(nn.Module):
    """The CIFAR-10 ResNet-18 the transfer literature attacks from (3x3 stem, no stem pooling,
    stages of 64/128/256/512 channels, two BasicBlocks each, 4x4 average pooling)."""

    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.avg_pool2d(x, 4), 1))


CIFAR_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']
IDENTITY = {'range': [0, 1], 'mean': [0.0], 'std': [1.0]}
# ImageNet statistics in 0..255 units: the descriptor maps [0, 1] onto [0, 255] first.
IMAGENET_255 = {'range': [0, 255], 'mean': [123.675, 116.28, 103.53], 'std': [58.395, 57.12, 57.375]}
CIFAR_NORM = {'range': [0, 1], 'mean': [0.4914, 0.4822, 0.4465], 'std': [0.2470, 0.2435, 0.2616]}

# name -> (constructor, input shape [C, H, W], input mapping, output kind, class names, data set)
FIXTURE_NETS = {
    'residual-bn': (ResidualBN, [3, 12, 12], IDENTITY, 'logits', None, 'synthetic'),
    'depthwise-separable': (DepthwiseSeparable, [3, 16, 16], IDENTITY, 'logits', None, 'synthetic'),
    'inception-concat': (InceptionConcat, [3, 10, 10], IDENTITY, 'probabilities', None, 'synthetic'),
    'avgpool': (AvgPoolNet, [3, 12, 12], IDENTITY, 'logits', None, 'synthetic'),
    'normalised-nchw': (NormalisedNCHW, [3, 16, 16], IMAGENET_255, 'logits', None, 'synthetic'),
    'mnist-cnn': (MnistCnn, [1, 28, 28], IDENTITY, 'logits', [str(d) for d in range(10)], 'mnist-embedded'),
}


# ---------------------------------------------------------------- export

def randomise_batchnorm(model, generator):
    """Fresh BatchNorm layers are the identity (mean 0, var 1, weight 1, bias 0), which would
    test nothing: give every one non-trivial statistics and affine parameters."""
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            c = module.num_features
            module.running_mean.copy_(torch.randn(c, generator=generator) * 0.2)
            module.running_var.copy_(torch.rand(c, generator=generator) + 0.5)
            module.weight.data.copy_(torch.rand(c, generator=generator) + 0.5)
            module.bias.data.copy_(torch.randn(c, generator=generator) * 0.2)


def export_onnx(model, shape, path, opset=13):
    """opset 13 unless told, dynamic batch, eval mode (Dropout dropped, BatchNorm with running statistics)."""
    model.eval()
    buffer = io.BytesIO()
    torch.onnx.export(model, torch.rand(2, *shape), buffer, opset_version=opset,
                      input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, do_constant_folding=True)
    data = buffer.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    with open(path, 'wb') as f:
        f.write(data)
    return hashlib.sha256(data).hexdigest()


def descriptor(name, sha256, shape, mapping, output_kind, class_names, dataset, classes, accuracy=None):
    """transferbench's target.json (src/targets/descriptor.ts) for a channels-first export."""
    channels = shape[0]
    out = {
        'name': name, 'model': 'model.onnx', 'sha256': sha256, 'inputName': 'input', 'outputName': 'logits',
        'layout': 'NCHW', 'inputShape': list(shape), 'inputRange': list(mapping['range']),
        'normalization': {
            'mean': list(mapping['mean']) if len(mapping['mean']) > 1 else [mapping['mean'][0]] * channels,
            'std': list(mapping['std']) if len(mapping['std']) > 1 else [mapping['std'][0]] * channels,
        },
        'outputKind': output_kind, 'classNames': class_names or [str(i) for i in range(classes)], 'dataset': dataset,
    }
    if accuracy is not None:
        out['cleanAccuracy'] = round(accuracy, 4)
    return out


def surrogate_logits(model, images_nhwc, mapping, output_kind):
    """What transferbench's Surrogate computes from NHWC [0, 1] images: the descriptor's range
    mapping and per-channel normalisation, NHWC -> NCHW, the net, and for a model that outputs
    probabilities their logarithm."""
    lo, hi = mapping['range']
    mean = torch.tensor(mapping['mean'], dtype=images_nhwc.dtype)
    std = torch.tensor(mapping['std'], dtype=images_nhwc.dtype)
    x = ((lo + images_nhwc * (hi - lo)) - mean) / std
    out = model(x.permute(0, 3, 1, 2).contiguous())
    return torch.log(out) if output_kind == 'probabilities' else out


def margin(z, labels):
    """m = z_y - max_{j != y} z_j, and the gap between the best and second-best j != y."""
    others = z.clone()
    others[torch.arange(len(labels)), labels] = float('-inf')
    top2 = others.topk(2, dim=1).values
    return z[torch.arange(len(labels)), labels] - top2[:, 0], top2[:, 0] - top2[:, 1]


def losses(z, labels, kind, kappa):
    if kind == 'cross-entropy':
        return F.cross_entropy(z, labels, reduction='none')
    m, _ = margin(z, labels)
    return torch.clamp(m if kind == 'cw-untargeted' else -m, min=-kappa)


def choose_kappa(z, labels):
    """A kappa that clamps some images and not others for one of the two C&W losses, with no
    margin within 1e-4 of the clamp (a tie there would make the reference gradient depend on
    rounding). Untrained nets have small margins, trained ones large: the candidates span both."""
    m, _ = margin(z, labels)
    for kappa in [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0]:
        for sign in (1, -1):
            clamped = (sign * m <= -kappa)
            if 0 < int(clamped.sum()) < len(labels) and float((sign * m + kappa).abs().min()) > 1e-4:
                return kappa
    return None


class Packer:
    """Arrays appended to one little-endian buffer; the header records dtype, shape and offset."""

    def __init__(self):
        self.chunks, self.offset = [], 0

    def add(self, array):
        array = np.ascontiguousarray(array)
        dtype = {np.dtype('float32'): 'float32', np.dtype('int32'): 'int32', np.dtype('uint8'): 'uint8'}[array.dtype]
        data = array.astype(array.dtype.newbyteorder('<')).tobytes()
        ref = {'dtype': dtype, 'shape': list(array.shape), 'offset': self.offset}
        self.chunks.append(data)
        self.offset += len(data)
        return ref

    def bytes(self):
        return b''.join(self.chunks)


def reference_cases(model, shape, mapping, output_kind, classes, batches, generator, packer):
    """Each batch's images, labels, logits, and per loss the loss values and input gradients,
    computed in float64 so the stored reference carries no float32 rounding of its own."""
    reference = model.double().eval()
    c, h, w = shape
    cases = []
    for batch in batches:
        for attempt in range(20):
            images = (batch if isinstance(batch, torch.Tensor)
                      else torch.rand(batch, h, w, c, generator=generator, dtype=torch.float64))
            n = images.shape[0]
            labels = torch.randint(0, classes, (n,), generator=generator)
            with torch.no_grad():
                z = surrogate_logits(reference, images, mapping, output_kind)
            _, gap = margin(z, labels)
            kappa = choose_kappa(z, labels)
            if float(gap.min()) > 1e-3 and kappa is not None:
                break
        else:
            raise RuntimeError('no batch without near-ties in 20 attempts')
        entry = {'count': n, 'images': packer.add(images.float().numpy()), 'labels': packer.add(labels.int().numpy()),
                 'logits': packer.add(z.float().numpy()), 'losses': []}
        for kind in ['cross-entropy', 'cw-untargeted', 'cw-targeted']:
            x = images.clone().requires_grad_(True)
            values = losses(surrogate_logits(reference, x, mapping, output_kind), labels, kind, kappa)
            gradient, = torch.autograd.grad(values.sum(), x)
            entry['losses'].append({'loss': kind, 'kappa': kappa if kind != 'cross-entropy' else 0.0,
                                    'values': packer.add(values.detach().float().numpy()),
                                    'gradient': packer.add(gradient.float().numpy())})
        cases.append(entry)
    model.float()
    return cases


def write_fixture(name, model, shape, mapping, output_kind, class_names, dataset, out_dir, batches, seed,
                  accuracy=None, note=''):
    os.makedirs(out_dir, exist_ok=True)
    classes = model.fc2.out_features if hasattr(model, 'fc2') else model.fc.out_features
    sha = export_onnx(model, shape, os.path.join(out_dir, 'model.onnx'))
    with open(os.path.join(out_dir, 'target.json'), 'w') as f:
        json.dump(descriptor(name, sha, shape, mapping, output_kind, class_names, dataset, classes, accuracy), f,
                  indent=2)
        f.write('\n')
    generator = torch.Generator().manual_seed(seed + 1)
    packer = Packer()
    cases = reference_cases(model, shape, mapping, output_kind, classes, batches, generator, packer)
    summary = (type(model).__doc__ or '').split('\n')[0].strip() + note
    header = {'net': name, 'description': summary, 'torch': torch.__version__,
              'onnxOpset': 13, 'modelSha256': sha, 'data': 'cases.bin', 'cases': cases}
    with open(os.path.join(out_dir, 'cases.bin'), 'wb') as f:
        f.write(packer.bytes())
    with open(os.path.join(out_dir, 'cases.json'), 'w') as f:
        json.dump(header, f, indent=1)
        f.write('\n')
    sizes = {file: os.path.getsize(os.path.join(out_dir, file)) for file in os.listdir(out_dir)}
    total = sum(sizes.values())
    parts = ', '.join(f'{k} {v / 1024:.0f}' for k, v in sorted(sizes.items()))
    print(f'{name}: {total / 1024:.0f} KiB ({parts})', file=sys.stderr)
    if total > MAX_BYTES:
        raise RuntimeError(f'{name}: fixture is {total} bytes, over the {MAX_BYTES}-byte limit for committed fixtures')


def load_npy_split(directory, prefix):
    images = np.load(os.path.join(directory, f'{prefix}images.npy'))
    labels = np.load(os.path.join(directory, f'{prefix}labels.npy')).astype(np.int64).reshape(-1)
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255
    images = images.astype(np.float32).reshape(len(labels), 28, 28, -1)
    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), torch.from_numpy(labels)


def train_mnist(model, directory, seed, epochs):
    """Adam on the attacker's own digits (images.npy/labels.npy, NHWC); test-images.npy and
    test-labels.npy, when present, give the clean accuracy written into the descriptor."""
    x, y = load_npy_split(directory, '')
    torch.manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(y))
        for start in range(0, len(y), 64):
            idx = order[start:start + 64]
            optimiser.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            optimiser.step()
        print(f'mnist-cnn: epoch {epoch + 1}/{epochs}', file=sys.stderr)
    model.eval()
    if not os.path.exists(os.path.join(directory, 'test-images.npy')):
        return None, x
    tx, ty = load_npy_split(directory, 'test-')
    with torch.no_grad():
        accuracy = float((model(tx).argmax(1) == ty).float().mean())
    print(f'mnist-cnn: clean accuracy {accuracy:.4f} on {len(ty)} held-out digits', file=sys.stderr)
    return accuracy, x


def build_fixture(name, args):
    build, shape, mapping, output_kind, class_names, dataset = FIXTURE_NETS[name]
    seed = sorted(FIXTURE_NETS).index(name) * 101 + 7
    torch.manual_seed(seed)
    model = build()
    randomise_batchnorm(model, torch.Generator().manual_seed(seed))
    batches, accuracy, note = [3, 5], None, ''
    if name == 'mnist-cnn' and args.mnist_train:
        accuracy, train_images = train_mnist(model, args.mnist_train, seed, args.epochs)
        # Real digits as the cases of the trained net (NHWC, float64 for the reference).
        batches = [train_images[:3].permute(0, 2, 3, 1).double(), train_images[3:8].permute(0, 2, 3, 1).double()]
        note = f' Trained {args.epochs} epochs on the attacker digits of --mnist-train.'
    model.eval()
    write_fixture(name, model, shape, mapping, output_kind, class_names, dataset, os.path.join(args.out, name),
                  batches, seed, accuracy, note)


def build_resnet18():
    """The benchmark's ResNet-18-style CIFAR-10 net, random weights from seed 0 (the same weights
    every time: bench/perf/torch_surrogate_reference.py rebuilds it to time PyTorch on them)."""
    torch.manual_seed(0)
    model = ResNet18Cifar()
    randomise_batchnorm(model, torch.Generator().manual_seed(0))
    return model.eval()


def export_resnet18(out_dir):
    """build_resnet18() exported with its descriptor (CIFAR-10 normalisation) into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    model = build_resnet18()
    shape = [3, 32, 32]
    sha = export_onnx(model, shape, os.path.join(out_dir, 'model.onnx'))
    with open(os.path.join(out_dir, 'target.json'), 'w') as f:
        json.dump(descriptor('resnet18-cifar', sha, shape, CIFAR_NORM, 'logits', CIFAR_CLASSES, 'cifar-10', 10), f,
                  indent=2)
        f.write('\n')
    print(os.path.join(out_dir, 'target.json'))


def build_vit_small():
    """ViT-small for the benchmark: torchvision's VisionTransformer with ViT-S/16's depth and widths
    (12 layers, 6 heads, hidden 384, MLP 1536; DeiT, 2012.12877) on CIFAR-size 32x32 input with 8x8
    patches (16 tokens and the class token), 10 classes, seed-0 random weights (the same every time:
    bench/perf/torch_surrogate_reference.py rebuilds it to time PyTorch on them)."""
    from torchvision.models import VisionTransformer
    torch.manual_seed(0)
    return VisionTransformer(32, 8, 12, 6, 384, 1536, num_classes=10).eval()


def export_vit_small(out_dir):
    """build_vit_small() exported (opset 17: LayerNormalization nodes) with its descriptor into out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    model = build_vit_small()
    shape = [3, 32, 32]
    sha = export_onnx(model, shape, os.path.join(out_dir, 'model.onnx'), opset=17)
    with open(os.path.join(out_dir, 'target.json'), 'w') as f:
        json.dump(descriptor('vit-small-cifar', sha, shape, CIFAR_NORM, 'logits', CIFAR_CLASSES, 'cifar-10', 10), f,
                  indent=2)
        f.write('\n')
    print(os.path.join(out_dir, 'target.json'))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default=FIXTURES)
    parser.add_argument('--only', action='append', choices=sorted(FIXTURE_NETS))
    parser.add_argument('--mnist-train',
                        help='folder with images.npy, labels.npy (and test-*.npy) to train mnist-cnn on')
    parser.add_argument('--epochs', type=int, default=3)
    parser.add_argument('--resnet18', metavar='OUT', help='export only the ResNet-18-style CIFAR-10 net into OUT/')
    parser.add_argument('--vit-small', metavar='OUT', help='export only the benchmark ViT-small (CIFAR-size) into OUT/')
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.resnet18:
        export_resnet18(args.resnet18)
        return
    if args.vit_small:
        export_vit_small(args.vit_small)
        return
    for name in args.only or sorted(FIXTURE_NETS):
        if name == 'mnist-cnn' and not args.mnist_train:
            # The committed mnist-cnn is the trained surrogate of bench/pretrained-surrogate.json:
            # an untrained copy must not overwrite it by accident.
            print('mnist-cnn: skipped (needs --mnist-train DIR; see bench/export_split.mjs)', file=sys.stderr)
            continue
        build_fixture(name, args)


if __name__ == '__main__':
    main()
