"""PyTorch reference for the ONNX-surrogate part of transferbench's benchmark (perf/
surrogate.ts; a benchmark extra, never a runtime dependency). Times FGSM and PGD-10 at batch 256
on the same networks and weights the ONNX path attacks, and prints one JSON object:

  model C   rebuilt from its ONNX file (the zoo's export, NHWC input): a small interpreter turns
            the graph's nodes into torch ops with the ONNX initializers as weights
  ResNet-18 the CIFAR-10 net of bench/torch_fixtures.py (build_resnet18: seed-0 weights, the
            ones --resnet18 exports), behind the descriptor's per-channel normalisation
  ViT-small torchvision's VisionTransformer at ViT-S/16's widths on 32x32 input (build_vit_small,
            the weights --vit-small exports), the same normalisation

Losses are cross-entropy on NHWC [0, 1] images, as transferbench crafts. `probe` holds each
model's logits on a fixed batch so the caller can check that both sides compute the same net.
Usage: python3 torch_surrogate_reference.py --model-c FILE.onnx [--threads N] [--seconds S]
       python3 torch_surrogate_reference.py --peak-memory resnet18   # ru_maxrss of one FGSM batch
"""
import argparse, json, os, resource, statistics, sys, time
import numpy as np
import torch
import torch.nn.functional as F
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from torch_fixtures import build_resnet18, build_vit_small, CIFAR_NORM  # noqa: E402

BATCH = 256


def attribute(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def padded(x, pads, value):
    """ONNX pads [top, left, bottom, right] -> F.pad (which lists the last axis first)."""
    if not pads or not any(pads):
        return x
    top, left, bottom, right = pads
    return F.pad(x, (left, right, top, bottom), value=value)


class OnnxAsTorch(torch.nn.Module):
    """An ONNX classifier's graph replayed with torch ops (the op set of transferbench's zoo
    exports), its initializers as constant weights, so autograd gives the input gradient."""

    def __init__(self, path):
        super().__init__()
        model = onnx.load(path)
        self.graph = model.graph
        self.weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in model.graph.initializer}
        self.input = [i.name for i in model.graph.input if i.name not in self.weights][0]
        self.output = model.graph.output[0].name

    def forward(self, x):
        values = dict(self.weights)
        values[self.input] = x
        for node in self.graph.node:
            args = [values[name] for name in node.input if name]
            op = node.op_type
            if op == 'Transpose':
                y = args[0].permute(*attribute(node, 'perm'))
            elif op == 'Conv':
                z = padded(args[0], attribute(node, 'pads', [0, 0, 0, 0]), 0.0)
                y = F.conv2d(z, args[1], args[2] if len(args) > 2 else None, stride=attribute(node, 'strides', [1, 1]),
                             dilation=attribute(node, 'dilations', [1, 1]), groups=attribute(node, 'group', 1))
            elif op == 'Relu':
                y = F.relu(args[0])
            elif op in ('MaxPool', 'AveragePool'):
                kernel, strides = attribute(node, 'kernel_shape'), attribute(node, 'strides', [1, 1])
                pads = attribute(node, 'pads', [0, 0, 0, 0])
                if op == 'MaxPool':
                    y = F.max_pool2d(padded(args[0], pads, float('-inf')), kernel, strides)
                else:
                    y = F.avg_pool2d(padded(args[0], pads, 0.0), kernel, strides)
            elif op == 'Flatten':
                y = torch.flatten(args[0], attribute(node, 'axis', 1))
            elif op == 'Gemm':
                a = args[0].t() if attribute(node, 'transA', 0) else args[0]
                b = args[1].t() if attribute(node, 'transB', 0) else args[1]
                bias = attribute(node, 'beta', 1.0) * args[2] if len(args) > 2 else 0
                y = attribute(node, 'alpha', 1.0) * (a @ b) + bias
            elif op == 'MatMul':
                y = args[0] @ args[1]
            elif op == 'Add':
                y = args[0] + args[1]
            elif op in ('Identity', 'Dropout'):
                y = args[0]
            elif op == 'Softmax':
                y = F.softmax(args[0], dim=attribute(node, 'axis', -1))
            else:
                raise ValueError(f'{op} (node {node.name}): not in this reference interpreter')
            values[node.output[0]] = y
        return values[self.output]


class Normalised(torch.nn.Module):
    """NHWC [0, 1] images -> the descriptor's per-channel normalisation -> the NCHW net."""

    def __init__(self, net, mapping):
        super().__init__()
        self.net, lo, hi = net, mapping['range'][0], mapping['range'][1]
        self.register_buffer('scale', torch.tensor(mapping['std']).reciprocal() * (hi - lo))
        self.register_buffer('shift', (lo - torch.tensor(mapping['mean'])) / torch.tensor(mapping['std']))

    def forward(self, x):
        return self.net((x * self.scale + self.shift).permute(0, 3, 1, 2))


def rates(fn, batch, seconds, repeats=5):
    """Images per second (median over timed windows) and per CPU-second of this process over all
    windows (every thread's time: less sensitive than wall clock to other jobs on the machine)."""
    fn(); fn()
    samples, items, cpu_start = [], 0, time.process_time()
    for _ in range(repeats):
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / repeats:
            fn(); steps += 1
        samples.append(steps * batch / (time.perf_counter() - start))
        items += steps * batch
    return statistics.median(samples), items / (time.process_time() - cpu_start)


def fgsm(model, x0, y, eps=0.1):
    x = x0.clone().requires_grad_(True)
    g, = torch.autograd.grad(F.cross_entropy(model(x), y), x)
    return (x0 + eps * g.sign()).clamp(0, 1)


def pgd(model, x0, y, eps=0.1, step=0.01, steps=10):
    x = x0.clone()
    for _ in range(steps):
        x.requires_grad_(True)
        g, = torch.autograd.grad(F.cross_entropy(model(x), y), x)
        x = torch.min(torch.max(x.detach() + step * g.sign(), x0 - eps), x0 + eps).clamp(0, 1)
    return x


def probe_images(shape):
    """The fixed batch both sides evaluate: pixel i of the flattened NHWC array is (i * 7919 mod 1000) / 1000."""
    n = int(np.prod(shape))
    return torch.from_numpy(((np.arange(n, dtype=np.int64) * 7919) % 1000).astype(np.float32) / 1000).reshape(shape)


def models(args):
    out = {}
    if args.model_c:
        out['model-c'] = (OnnxAsTorch(args.model_c).eval(), (28, 28, 1))
    out['resnet18'] = (Normalised(build_resnet18(), CIFAR_NORM).eval(), (32, 32, 3))
    if not args.skip_vit:
        out['vit-small'] = (Normalised(build_vit_small(), CIFAR_NORM).eval(), (32, 32, 3))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--model-c', help='model C as ONNX (NHWC input), e.g. the zoo export')
    parser.add_argument('--threads', type=int, default=0)
    parser.add_argument('--seconds', type=float, default=6.0)
    parser.add_argument('--skip-vit', action='store_true', help='leave out the ViT-small')
    parser.add_argument('--peak-memory', choices=['resnet18', 'model-c', 'vit-small'])
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    nets = models(args)
    if args.peak_memory:
        model, shape = nets[args.peak_memory]
        x, y = torch.rand(BATCH, *shape), torch.randint(0, 10, (BATCH,))
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        fgsm(model, x, y)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({'model': args.peak_memory, 'batch': BATCH, 'maxRssKiBBefore': before, 'maxRssKiB': after}))
        return
    out = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batch': BATCH, 'models': {}}
    torch.manual_seed(0)
    for name, (model, shape) in nets.items():
        x, y = torch.rand(BATCH, *shape), torch.randint(0, 10, (BATCH,))
        with torch.no_grad():
            probe = model(probe_images((4, *shape))).flatten().tolist()
        runs = {'fgsm': lambda: fgsm(model, x, y)}
        if name == 'model-c':
            runs['pgd10'] = lambda: pgd(model, x, y)

            def inference():
                with torch.no_grad():
                    model(x)
            runs['inference'] = inference
        entry = {'probe': probe}
        for key, fn in runs.items():
            entry[f'{key}ImagesPerSecond'], entry[f'{key}ImagesPerCpuSecond'] = rates(fn, BATCH, args.seconds)
        out['models'][name] = entry
    print(json.dumps(out))


if __name__ == '__main__':
    main()
