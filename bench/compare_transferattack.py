"""TransferAttack's untargeted ranking beside the protocol suite's (bench/transfer-protocol.json).

Reads TransferAttack's published attack success rates (bench/transferattack-untargeted.csv, copied from its README
at the commit named there) and a transfer-protocol run's results.csv, and prints a Markdown table: per method, its
success on TransferAttack's black-box CNNs, ViTs and defences (means of their columns) and ours on the Fashion-MNIST
targets of the same kinds (attack success: of the images the target classifies correctly, the share the adversarial
image fools, pooled over cells), with each side's rank and Spearman's rho between them. Standard library only.

Our surrogate per method is the ground-truth `cnn-small` (TransferAttack's is one ResNet-50), except where the method
needs another: `sgm` runs on the ground-truth `resnet8` (SGM needs skip connections) and `lgv` is MI-FGSM on the
`lgv` substitute.

Usage:
  python3 bench/compare_transferattack.py reports/transfer-protocol/results.csv [--out FILE.md]
"""
import argparse, csv, math, os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TA_GROUPS = {
    'CNN': ['vgg16', 'mobilenet_v2', 'inception_v3'],
    'ViT': ['vit', 'pit', 'visformer', 'swin'],
    'defended': ['at', 'hgd', 'rs', 'nrp', 'diffpure'],
}


def our_group(target):
    if target == 'fashion-vit':
        return 'ViT'
    if target == 'fashion-cnn-small':
        return 'CNN'
    return 'defended'


def ta_rows():
    with open(os.path.join(ROOT, 'bench', 'transferattack-untargeted.csv')) as f:
        lines = [line for line in f if not line.startswith('#')]
    return list(csv.DictReader(lines))


def base_of(method):
    """The surrogate whose MI-FGSM a method is compared with: its own; LGV's is the network its snapshots start from."""
    return ('ground-truth', 'resnet8' if method == 'sgm' else 'cnn-small')


def method_of(row):
    """The TransferAttack method a results row measures, or None."""
    if row.get('target_class'):
        return None
    comp = row['composition'].replace(' ', '')
    strategy, arch = row['strategy'].split('(')[0], row['architecture']
    if strategy == 'lgv':
        return 'lgv' if comp == 'mi-fgsm' and arch == 'cnn-small' else None
    if strategy != 'ground-truth':
        return None
    if comp == 'sgm':
        return 'sgm' if arch == 'resnet8' else None
    return comp if arch == 'cnn-small' else None


def ranks(values):
    """1 = highest; ties share their mean rank."""
    order = sorted(range(len(values)), key=lambda i: -values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    return cov / math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('results')
    parser.add_argument('--out')
    args = parser.parse_args()
    ours = {}
    # MI-FGSM on each surrogate, the base every other method is compared with (TransferAttack's base attack).
    base = {}
    with open(args.results) as f:
        for row in csv.DictReader(f):
            if not row.get('target_class') and row['composition'].replace(' ', '') == 'mi-fgsm':
                key = (row['strategy'].split('(')[0], row['architecture'])
                cell = base.setdefault(key, {g: [0, 0] for g in TA_GROUPS})[our_group(row['target'])]
                cell[0] += int(row['attack_success_num'])
                cell[1] += int(row['attack_success_den'])
            method = method_of(row)
            if method is None:
                continue
            cell = ours.setdefault(method, {g: [0, 0] for g in TA_GROUPS})[our_group(row['target'])]
            cell[0] += int(row['attack_success_num'])
            cell[1] += int(row['attack_success_den'])
    methods = [r for r in ta_rows() if r['transferbench'] in ours]
    ta_base = next(r for r in ta_rows() if r['method'] == 'MI-FGSM')
    ta_mi = {g: sum(float(ta_base[c]) for c in cols) / len(cols) for g, cols in TA_GROUPS.items()}
    table = []
    for r in methods:
        theirs = {g: sum(float(r[c]) for c in cols) / len(cols) for g, cols in TA_GROUPS.items()}
        mine = {g: 100 * n / d if d else float('nan') for g, (n, d) in ours[r['transferbench']].items()}
        n, d = base.get(base_of(r['transferbench']), {}).get('CNN', [0, 0])
        mine_vs_mi = mine['CNN'] - (100 * n / d if d else float('nan'))
        table.append((r['method'], r['transferbench'], theirs, mine, theirs['CNN'] - ta_mi['CNN'], mine_vs_mi))
    lines = [
        '| method | ours | TransferAttack CNN | rank | ours: CNN | rank | TransferAttack ViT | rank | ours: ViT | rank '
        '| TransferAttack defended | rank | ours: defended | rank | CNN vs MI-FGSM: TransferAttack | ours |',
        '|---|---|' + '---:|' * 14,
    ]
    rank_cols = {}
    for g in TA_GROUPS:
        rank_cols[('ta', g)] = ranks([t[2][g] for t in table])
        rank_cols[('us', g)] = ranks([t[3][g] for t in table])
    for i, (name, ours_name, theirs, mine, ta_delta, our_delta) in enumerate(table):
        cells = []
        for g in TA_GROUPS:
            ta_rank, our_rank = rank_cols[('ta', g)][i], rank_cols[('us', g)][i]
            cells += [f'{theirs[g]:.1f}', f'{ta_rank:g}', f'{mine[g]:.1f}', f'{our_rank:g}']
        cells += [f'{ta_delta:+.1f}', f'{our_delta:+.1f}']
        lines.append(f'| {name} | `{ours_name}` | ' + ' | '.join(cells) + ' |')
    lines.append('')
    lines.append(
        '- CNN vs MI-FGSM: the method minus MI-FGSM, in points, on the same surrogate (ours: the ground-truth '
        'cnn-small; SGM the ground-truth resnet8; LGV is MI-FGSM on the LGV snapshots minus on the cnn-small they '
        'start from)'
    )
    for g in TA_GROUPS:
        rho = spearman([t[2][g] for t in table], [t[3][g] for t in table])
        lines.append(f'- {g}: Spearman rho between the two rankings {rho:.2f} over {len(table)} methods')
    text = '\n'.join(lines) + '\n'
    print(text, end='')
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)


if __name__ == '__main__':
    main()
