"""PyTorch reference for the network-training part of transferbench's benchmark (perf/
network-training.ts; a benchmark extra, never a runtime dependency). Times Adam steps of the
CIFAR-style ResNet-18 (bench/torch_fixtures.py's ResNet18Cifar, the architecture transferbench's
resnet18 builds) in training mode at batch 64 on 32x32x3 images, and prints one JSON object.

Usage: python3 torch_training_reference.py [--threads N] [--seconds S] [--repeats R] [--batch B]
"""
import argparse, json, os, statistics, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from torch_fixtures import ResNet18Cifar  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--seconds', type=float, default=2.0)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--batch', type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = ResNet18Cifar().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = torch.rand(args.batch, 3, 32, 32)
    labels = torch.randint(0, 10, (args.batch,))

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()

    for _ in range(2):
        step()
    samples = []
    for _ in range(args.repeats):
        started, steps = time.perf_counter(), 0
        while steps == 0 or time.perf_counter() - started < args.seconds:
            step()
            steps += 1
        samples.append(steps * args.batch / (time.perf_counter() - started))
    print(json.dumps({'torch': torch.__version__, 'threads': args.threads, 'batch': args.batch,
                      'imagesPerSecond': {'median': statistics.median(samples), 'samples': samples}}))


if __name__ == '__main__':
    main()
