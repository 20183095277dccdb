"""Which fixture of bench/torchvision_fixtures.py stands for each classification model torchvision lists.

torchvision's named models (resnet50, vgg16_bn, swin_v2_t, ...) are members of a few families that
share their blocks and differ in widths, depths and counts; the fixtures build one small member of
each. A name that matches no family (a new architecture in a later torchvision) fails the fixture
run, so no family goes untested without anyone noticing.

Usage: python3 bench/torchvision_families.py   (prints each fixture with the names it stands for)
"""
import re

# (pattern of torchvision.models.list_models(module=torchvision.models) names, fixture)
FAMILIES = [
    (r'alexnet', 'alexnet'),
    (r'convnext_(tiny|small|base|large)', 'convnext'),
    (r'densenet\d+', 'densenet'),
    (r'efficientnet_b\d', 'efficientnet-b0'),
    (r'efficientnet_v2_[sml]', 'efficientnet-v2'),
    (r'googlenet', 'googlenet'),
    (r'inception_v3', 'inception-v3'),
    (r'maxvit_t', 'maxvit'),
    (r'mnasnet\d_\d+', 'mnasnet'),
    (r'mobilenet_v2', 'mobilenet-v2'),
    (r'mobilenet_v3_large', 'mobilenet-v3-large'),
    (r'mobilenet_v3_small', 'mobilenet-v3-small'),
    (r'regnet_x_\w+', 'regnet-x'),
    (r'regnet_y_\w+', 'regnet-y'),
    (r'resnet(18|34)', 'resnet-basic'),
    (r'resnet(50|101|152)', 'resnet-bottleneck'),
    (r'resnext\d+_\d+x\d+d', 'resnext'),
    (r'wide_resnet\d+_2', 'wide-resnet'),
    (r'shufflenet_v2_x\d_\d', 'shufflenet-v2'),
    (r'squeezenet1_0', 'squeezenet-1.0'),
    (r'squeezenet1_1', 'squeezenet-1.1'),
    (r'swin_[tsb]', 'swin'),
    (r'swin_v2_[tsb]', 'swin-v2'),
    (r'vgg\d+', 'vgg'),
    (r'vgg\d+_bn', 'vgg-bn'),
    (r'vit_[bhl]_\d+', 'vit'),
]


def families(names):
    """fixture -> the listed names it stands for; raises on a name no family (or two) matches."""
    covered = {}
    for name in names:
        fixtures = [fixture for pattern, fixture in FAMILIES if re.fullmatch(pattern, name)]
        if len(fixtures) != 1:
            raise RuntimeError(f'torchvision model {name}: matched by fixtures {fixtures}, not exactly one; '
                               'add its family to bench/torchvision_families.py (and a fixture if it is new)')
        covered.setdefault(fixtures[0], []).append(name)
    return covered


def check_coverage(architectures):
    """Every classification model torchvision lists has a family, and every family its fixture."""
    from torchvision import models
    covered = families(models.list_models(module=models))
    missing = sorted(set(covered) - set(architectures))
    if missing:
        raise RuntimeError(f'families without a fixture in ARCHITECTURES: {missing}')
    return covered


if __name__ == '__main__':
    from torchvision_fixtures import ARCHITECTURES
    for fixture, names in sorted(check_coverage(ARCHITECTURES).items()):
        print(f'{fixture}: {" ".join(names)}')
