"""Every classification architecture torchvision 0.14 ships, as ONNX gradient fixtures (issue 27).

A benchmark/test extra like bench/torch_fixtures.py, whose export, descriptor and packing it reuses;
run with a python3 that has torch, torchvision and onnx (Debian's /usr/bin/python3). For each
architecture it writes test/fixtures/torchvision/<arch>/:
  model-opset13.onnx, model-opset17.onnx   torch.onnx exports of one seeded model, dynamic batch
  target-opset13.json, target-opset17.json their descriptors (ImageNet mean and std)
  cases.json, cases.bin                    images (uint8, k/255), labels, logits and PyTorch's float64
                                           input gradient of the cross-entropy loss, shared by both
                                           exports (same weights, same function)

The models are torchvision's own classes, seeded, made small enough to commit: through their
constructors where those take widths and depths (ConvNeXt, DenseNet, EfficientNet, MaxViT,
MNASNet, MobileNets, RegNet, ShuffleNet-V2, Swin, Swin-V2, ViT), and otherwise (AlexNet, VGG,
ResNet and its ResNeXt and wide variants, GoogLeNet, Inception-v3, SqueezeNet) by dividing every
channel count of the built model by a factor, the class's forward unchanged. Inputs are the smallest each
architecture's pooling allows. A batch is kept only if PyTorch's gradient has a second difference
of at most 1e-6 (normwise relative) along pixel noise of 1e-5: no ReLU or max-pool sits within
float32 rounding of a kink, so the 1e-4 test tolerance need not absorb one. Every model
torchvision.models.list_models names must belong to one of these families (torchvision_families.py).

Usage: python3 bench/torchvision_fixtures.py [--only vit ...] [--out DIR]   (about a minute for all)
"""
import argparse, copy, json, os, shutil, sys
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision import models as tv
from torch.onnx import register_custom_op_symbolic
from torchvision.models import convnext, efficientnet, mobilenetv3, regnet, swin_transformer, vgg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_fixtures import Packer, descriptor, export_onnx, randomise_batchnorm, surrogate_logits  # noqa: E402
from torchvision_families import check_coverage  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, 'test', 'fixtures', 'torchvision')
OPSETS = (13, 17)
CLASSES = 10
IMAGENET = {'range': [0, 1], 'mean': [0.485, 0.456, 0.406], 'std': [0.229, 0.224, 0.225]}
MAX_BYTES = 1536 << 10


def narrowed(model, factor, only=None):
    """Every Conv2d, BatchNorm2d and Linear with its channel counts divided by `factor` (3 input
    channels and the classes stay; with `only`, just those counts), groups scaled with depthwise
    convolutions: the same graph, narrower."""
    def div(n):
        return n if n in (3, CLASSES) or n % factor or (only is not None and n not in only) else n // factor

    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Conv2d):
                groups = child.groups if child.groups == 1 else max(1, div(child.groups))
                new = nn.Conv2d(div(child.in_channels), div(child.out_channels), child.kernel_size, child.stride,
                                child.padding, child.dilation, groups, child.bias is not None)
            elif isinstance(child, nn.BatchNorm2d):
                new = nn.BatchNorm2d(div(child.num_features), child.eps)
            elif isinstance(child, nn.Linear):
                new = nn.Linear(div(child.in_features), div(child.out_features), child.bias is not None)
            else:
                continue
            setattr(parent, name, new)
    return model


def register_zero_symbolic():
    """Swin-V2's attention zeroes the key third of its qkv bias in forward (`qkv_bias[l:2l].zero_()` on a
    clone), and torch 1.13's exporter has no symbolic for the resulting aten::zero, so torch.onnx.export
    fails. aten::zero is zeros_like: this registers exactly that (ConstantOfShape of its Shape, same dtype)
    through the exporter's own extension point, leaving torchvision's module and its forward untouched. The
    zeroed bias depends on parameters only, so the exporter's constant folding removes it from the graph."""
    def zero(g, tensor):
        dtype = torch.onnx._type_utils.JitScalarType.from_name(tensor.type().scalarType()).dtype()
        return g.op('ConstantOfShape', g.op('Shape', tensor), value_t=torch.zeros(1, dtype=dtype))

    for opset in OPSETS:
        register_custom_op_symbolic('aten::zero', zero, opset)


def swin_v2_small():
    """torchvision's Swin-V2 (swin_v2_t's block and patch merging: cosine attention with a clamped logit
    scale, the continuous position bias MLP, post-norm residuals) at the 'swin' entry's size."""
    return tv.SwinTransformer([2, 2], 16, [2, 2], [2, 4], [4, 4], num_classes=CLASSES,
                              block=swin_transformer.SwinTransformerBlockV2,
                              downsample_layer=swin_transformer.PatchMergingV2)


def efficientnet_v2_small():
    """EfficientNet-V2's stage types (FusedMBConv, then MBConv with squeeze-excitation), few and narrow."""
    fused, mb = efficientnet.FusedMBConvConfig, efficientnet.MBConvConfig
    setting = [fused(1, 3, 1, 8, 8, 1), fused(4, 3, 2, 8, 16, 1), mb(4, 3, 2, 16, 24, 1), mb(6, 3, 1, 24, 32, 1)]
    return efficientnet.EfficientNet(setting, dropout=0.2, num_classes=CLASSES, last_channel=64)


def regnet_small(se_ratio):
    params = regnet.BlockParams.from_init_params(depth=3, w_0=8, w_a=8.0, w_m=2.0, group_width=8, se_ratio=se_ratio)
    return regnet.RegNet(params, num_classes=CLASSES, stem_width=8)


def mobilenet_v3(arch):
    setting, last = mobilenetv3._mobilenet_v3_conf(arch, width_mult=0.1)
    return tv.MobileNetV3(setting, last, num_classes=CLASSES)


def efficientnet_b0_small():
    setting, last = efficientnet._efficientnet_conf('efficientnet_b0', width_mult=0.1, depth_mult=0.25)
    return efficientnet.EfficientNet(setting, dropout=0.2, num_classes=CLASSES, last_channel=last)


def convnext_small():
    blocks = [convnext.CNBlockConfig(8, 16, 1), convnext.CNBlockConfig(16, None, 1)]
    return convnext.ConvNeXt(blocks, num_classes=CLASSES, layer_scale=0.5)


def vgg_small(batch_norm):
    """VGG's configuration A (vgg11) without its last three max-pools, channels / 16 and the
    classifier's 4096 / 256: its adaptive pooling to 7x7 then takes a 28x28 input, not 224x224."""
    layers = vgg.make_layers([64, 'M', 128, 'M', 256, 256, 512, 512, 512, 512], batch_norm)
    return narrowed(narrowed(vgg.VGG(layers, num_classes=CLASSES), 16), 16, only={256})


# name -> (constructor, [C, H, W], what it is)
ARCHITECTURES = {
    'alexnet': (lambda: narrowed(tv.alexnet(num_classes=CLASSES), 64), [3, 223, 223], 'AlexNet, channels / 64'),
    'convnext': (convnext_small, [3, 32, 32], 'ConvNeXt, two stages of one block (8, 16 channels)'),
    'densenet': (lambda: tv.DenseNet(8, (2, 2), 8, bn_size=2, num_classes=CLASSES), [3, 32, 32],
                 'DenseNet, growth 8, two blocks of two layers'),
    'efficientnet-b0': (efficientnet_b0_small, [3, 32, 32], 'EfficientNet-B0, width x 0.1, depth x 0.25'),
    'efficientnet-v2': (efficientnet_v2_small, [3, 32, 32], 'EfficientNet-V2 stages, two fused and two MBConv'),
    'googlenet': (lambda: narrowed(tv.GoogLeNet(num_classes=CLASSES, aux_logits=False, init_weights=True), 16),
                  [3, 32, 32], 'GoogLeNet, channels / 16'),
    'inception-v3': (lambda: narrowed(tv.Inception3(num_classes=CLASSES, aux_logits=False, init_weights=True), 16),
                     [3, 75, 75], 'Inception-v3, channels / 16, its smallest input'),
    'maxvit': (lambda: tv.MaxVit((32, 32), 8, 2, [8, 16], [1, 1], 4, 0.0, num_classes=CLASSES), [3, 32, 32],
               'MaxViT, two stages of one block, partition 2, head dim 4'),
    'mnasnet': (lambda: narrowed(tv.MNASNet(0.1, num_classes=CLASSES), 16, only={1280}), [3, 32, 32],
                'MNASNet, alpha 0.1, its 1280-channel head / 16'),
    'mobilenet-v2': (lambda: narrowed(tv.MobileNetV2(num_classes=CLASSES, width_mult=0.1), 16, only={1280}),
                     [3, 32, 32], 'MobileNet-V2, width x 0.1, its 1280-channel head / 16'),
    'mobilenet-v3-large': (lambda: mobilenet_v3('mobilenet_v3_large'), [3, 32, 32], 'MobileNet-V3-Large, width x 0.1'),
    'mobilenet-v3-small': (lambda: mobilenet_v3('mobilenet_v3_small'), [3, 32, 32], 'MobileNet-V3-Small, width x 0.1'),
    'regnet-x': (lambda: regnet_small(None), [3, 32, 32], 'RegNet-X, depth 3, w0 8'),
    'regnet-y': (lambda: regnet_small(0.25), [3, 32, 32], 'RegNet-Y (squeeze-excitation), depth 3, w0 8'),
    'resnet-basic': (lambda: narrowed(tv.ResNet(tv.resnet.BasicBlock, [1, 1, 1, 1], num_classes=CLASSES), 16),
                     [3, 32, 32], 'ResNet with BasicBlocks (ResNet-18/34), one per stage, channels / 16'),
    'resnet-bottleneck': (lambda: narrowed(tv.ResNet(tv.resnet.Bottleneck, [1, 1, 1, 1], num_classes=CLASSES), 16),
                          [3, 32, 32], 'ResNet with Bottlenecks (ResNet-50/101/152), one per stage, channels / 16'),
    'resnext': (lambda: narrowed(tv.ResNet(tv.resnet.Bottleneck, [1, 1, 1, 1], groups=32, width_per_group=4,
                                           num_classes=CLASSES), 16), [3, 32, 32],
                'ResNeXt-50 32x4d blocks, one per stage, channels and groups / 16'),
    'wide-resnet': (lambda: narrowed(tv.ResNet(tv.resnet.Bottleneck, [1, 1, 1, 1], width_per_group=128,
                                               num_classes=CLASSES), 32), [3, 32, 32],
                    'Wide ResNet-50-2 blocks, one per stage, channels / 32'),
    'shufflenet-v2': (lambda: tv.ShuffleNetV2([1, 1, 1], [8, 16, 32, 64, 128], num_classes=CLASSES), [3, 32, 32],
                      'ShuffleNet-V2, one unit per stage, 16-64 channels'),
    'squeezenet-1.0': (lambda: narrowed(tv.SqueezeNet('1_0', num_classes=CLASSES), 8), [3, 64, 64],
                       'SqueezeNet 1.0, channels / 8'),
    'squeezenet-1.1': (lambda: narrowed(tv.SqueezeNet('1_1', num_classes=CLASSES), 8), [3, 32, 32],
                       'SqueezeNet 1.1, channels / 8'),
    'swin': (lambda: tv.SwinTransformer([2, 2], 16, [2, 2], [2, 4], [4, 4], num_classes=CLASSES), [3, 32, 32],
             'Swin, patch 2, embed 16, two stages of two blocks (one shifted), window 4'),
    'swin-v2': (swin_v2_small, [3, 32, 32],
                'Swin-V2, patch 2, embed 16, two stages of two blocks (one shifted), window 4'),
    'vgg': (lambda: vgg_small(False), [3, 28, 28],
            'VGG configuration A without its last three max-pools, channels / 16, hidden 16'),
    'vgg-bn': (lambda: vgg_small(True), [3, 28, 28],
               'VGG-BN configuration A without its last three max-pools, channels / 16, hidden 16'),
    'vit': (lambda: tv.VisionTransformer(32, 8, 2, 2, 32, 64, num_classes=CLASSES), [3, 32, 32],
            'ViT, image 32, patch 8, two layers, two heads, hidden 32, MLP 64'),
}


def randomise(model, generator):
    """BatchNorm statistics (torch_fixtures.randomise_batchnorm), LayerNorm affine parameters and the
    zero-initialised ones (ViT's head, class token) away from their trivial values."""
    randomise_batchnorm(model, generator)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.LayerNorm) and module.elementwise_affine:
                module.weight.copy_(torch.rand(module.weight.shape, generator=generator) + 0.5)
                module.bias.copy_(torch.randn(module.bias.shape, generator=generator) * 0.2)
        for name, p in model.named_parameters():
            if float(p.abs().max()) == 0:
                p.copy_(torch.randn(p.shape, generator=generator) * 0.2)


def gradient(model, images, labels):
    x = images.clone().requires_grad_(True)
    loss = F.cross_entropy(surrogate_logits(model, x, IMAGENET, 'logits'), labels, reduction='none')
    return torch.autograd.grad(loss.sum(), x)[0], loss.detach()


def stable_batch(model, shape, count, generator):
    """Images k/255 and labels whose float64 gradient is nonzero at most pixels and crosses no kink
    within pixel noise of 1e-5."""
    c, h, w = shape
    for _ in range(50):
        pixels = torch.randint(0, 256, (count, h, w, c), generator=generator, dtype=torch.uint8)
        images = pixels.double() / 255
        labels = torch.randint(0, CLASSES, (count,), generator=generator)
        reference, _ = gradient(model, images, labels)
        # A gradient zero at most pixels (SqueezeNet's ReLU on the logits all off) would test nothing.
        if float((reference != 0).double().mean()) < 0.5:
            continue
        worst = 0.0
        for _ in range(3):
            # The second difference: a smooth gradient moves by O(noise^2) there, a crossed kink by O(1).
            noise = 1e-5 * torch.randn(images.shape, generator=generator, dtype=torch.float64)
            plus, _ = gradient(model, images + noise, labels)
            minus, _ = gradient(model, images - noise, labels)
            worst = max(worst, float((plus + minus - 2 * reference).norm() / reference.norm()))
        if worst <= 1e-6:
            return pixels, images, labels, worst
    return None


def seeded_model(name, shape, count):
    """The architecture with the first of a few seeds that gives a usable batch (stable_batch)."""
    make = ARCHITECTURES[name][0]
    for attempt in range(5):
        seed = sorted(ARCHITECTURES).index(name) * 101 + 11 + 7919 * attempt
        torch.manual_seed(seed)
        model = make().eval()
        generator = torch.Generator().manual_seed(seed)
        randomise(model, generator)
        batch = stable_batch(copy.deepcopy(model).double(), shape, count, generator)
        if batch is not None:
            return model, batch
    raise RuntimeError(f'{name}: no seed gives a batch with a nonzero gradient stable under noise')


def build(name, out):
    _, shape, about = ARCHITECTURES[name]
    count = 1 if shape[1] > 100 else 2
    model, (pixels, images, labels, worst) = seeded_model(name, shape, count)
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    targets = []
    for opset in OPSETS:
        model_file = f'model-opset{opset}.onnx'
        sha = export_onnx(model, shape, os.path.join(folder, model_file), opset)
        target = descriptor(f'{name}-opset{opset}', sha, shape, IMAGENET, 'logits', None, 'synthetic', CLASSES)
        target['model'] = model_file
        targets.append(f'target-opset{opset}.json')
        with open(os.path.join(folder, targets[-1]), 'w') as f:
            json.dump(target, f, indent=2)
            f.write('\n')
    reference = model.double()
    grad, loss = gradient(reference, images, labels)
    with torch.no_grad():
        logits = surrogate_logits(reference, images, IMAGENET, 'logits')
    packer = Packer()
    case = {'count': count, 'images': packer.add(pixels.numpy()), 'labels': packer.add(labels.int().numpy()),
            'logits': packer.add(logits.float().numpy()),
            'losses': [{'loss': 'cross-entropy', 'kappa': 0.0, 'values': packer.add(loss.float().numpy()),
                        'gradient': packer.add(grad.float().numpy())}]}
    params = sum(p.numel() for p in model.parameters())
    header = {'net': name, 'description': f'{about} ({params} parameters, {shape[1]}x{shape[2]})',
              'torch': torch.__version__, 'torchvision': torchvision.__version__, 'opsets': list(OPSETS),
              'targets': targets, 'noiseStability': worst, 'data': 'cases.bin', 'cases': [case]}
    with open(os.path.join(folder, 'cases.bin'), 'wb') as f:
        f.write(packer.bytes())
    with open(os.path.join(folder, 'cases.json'), 'w') as f:
        json.dump(header, f, indent=1)
        f.write('\n')
    total = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print(f'{name}: {total / 1024:.0f} KiB, {params} parameters, second difference {worst:.1e} along noise',
          file=sys.stderr)
    if total > MAX_BYTES:
        raise RuntimeError(f'{name}: {total} bytes, over the {MAX_BYTES}-byte limit for a committed fixture')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default=FIXTURES)
    parser.add_argument('--only', action='append', choices=sorted(ARCHITECTURES))
    args = parser.parse_args()
    check_coverage(ARCHITECTURES)
    torch.set_num_threads(1)
    register_zero_symbolic()
    if args.only:
        for name in args.only:
            build(name, args.out)
        return
    # All or nothing: the test skips on a missing folder, and must not meet half of one.
    partial = args.out.rstrip('/') + '.partial'
    shutil.rmtree(partial, ignore_errors=True)
    for name in sorted(ARCHITECTURES):
        build(name, partial)
    shutil.rmtree(args.out, ignore_errors=True)
    os.rename(partial, args.out)


if __name__ == '__main__':
    main()
