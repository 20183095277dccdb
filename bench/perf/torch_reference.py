"""PyTorch reference for transferbench's compute benchmark (a benchmark extra, never a runtime
dependency). Times the same two models, batch and steps as perf/compute.ts and prints
one JSON object. Usage: python3 torch_reference.py [--seconds S] [--threads N] [--models a,b] [--train-only]"""
import argparse, json, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F


def mlp():
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)
    )


def cnn_small():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))


def model_c():
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 200), nn.ReLU(), nn.Linear(200, 200), nn.ReLU(), nn.Linear(200, 10))


def rate(fn, batch, seconds, repeats):
    fn(); fn()
    rates = []
    for _ in range(repeats):
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / repeats:
            fn(); steps += 1
        rates.append(steps * batch / (time.perf_counter() - start))
    return statistics.median(rates)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--seconds', type=float, default=6.0)
    parser.add_argument('--threads', type=int, default=0)
    parser.add_argument('--batch', type=int, default=64)
    # The training engine's benchmark times PyTorch's step between its own windows: one model, the step only.
    parser.add_argument('--models', type=str, default='mlp,cnn-small,model-c')
    parser.add_argument('--train-only', action='store_true')
    args = parser.parse_args()
    wanted = args.models.split(',')
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batch': args.batch, 'models': {}}
    for name, build in [('mlp', mlp), ('cnn-small', cnn_small), ('model-c', model_c)]:
        if name not in wanted:
            continue
        model = build()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.rand(args.batch, 1, 28, 28)
        y = torch.randint(0, 10, (args.batch,))

        def train_step():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

        def input_gradient():
            xi = x.clone().requires_grad_(True)
            g, = torch.autograd.grad(F.cross_entropy(model(xi), y), xi)
            return g.sign()

        def fgsm_256():
            xi = torch.rand(256, 1, 28, 28, requires_grad=True)
            yi = torch.randint(0, 10, (256,))
            g, = torch.autograd.grad(F.cross_entropy(model(xi), yi), xi)
            return (xi + 0.1 * g.sign()).clamp(0, 1)

        def pgd10_256():
            x0 = torch.rand(256, 1, 28, 28)
            yi = torch.randint(0, 10, (256,))
            xa = x0.clone()
            for _ in range(10):
                xa.requires_grad_(True)
                g, = torch.autograd.grad(F.cross_entropy(model(xa), yi), xa)
                xa = torch.min(torch.max(xa.detach() + 0.01 * g.sign(), x0 - 0.1), x0 + 0.1).clamp(0, 1)
            return xa

        entry = {'trainImagesPerSecond': rate(train_step, args.batch, args.seconds, 5)}
        if args.train_only:
            out['models'][name] = entry
            continue
        entry['inputGradientImagesPerSecond'] = rate(input_gradient, args.batch, args.seconds, 5)
        if name == 'model-c':
            entry['fgsmImagesPerSecond'] = rate(fgsm_256, 256, args.seconds, 5)
            entry['pgd10ImagesPerSecond'] = rate(pgd10_256, 256, args.seconds, 5)
        out['models'][name] = entry
    print(json.dumps(out))


if __name__ == '__main__':
    main()
