import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ATTACKS } from '../../src/attacks/index.js';
import { expandGrid, gridSize } from '../../src/runner/grid.js';
import { loadSuite, parseSuite, suiteSchema } from '../../src/runner/suite.js';
import { NETWORKS } from '../../src/compute/network/architectures.js';
import { STRATEGIES } from '../../src/substitutes/index.js';
import { tempDir } from '../fixtures/files.js';

const VALID = {
  name: 'ok',
  dataset: 'mnist-embedded',
  seed: 0,
  evaluationSize: 100,
  targets: ['mlp'],
  oracle: { mode: 'probabilities' },
  substitutes: [
    { strategy: 'ground-truth', architectures: ['mlp'], budgets: [0] },
    { strategy: 'static-distillation', architectures: ['mlp'], budgets: [1000], training: { epochs: 2 } },
  ],
  attacks: [
    { name: 'fgsm', eps: [0.1] },
    { name: 'bim', eps: [0.1, 0.2], params: { steps: 5 } },
  ],
  labelSources: ['true'],
};

type Mutation = [string, (s: Record<string, any>) => void, RegExp];

/** A registry's names as the schema's enum error lists them, escaped for a RegExp. */
const allowed = (names: readonly string[]) =>
  names
    .map((n) => `"${n}"`)
    .join(', ')
    .replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Each malformed suite, what is wrong with it, and the one-line error it must get. */
const MALFORMED: Mutation[] = [
  ['missing name', (s) => delete s.name, /^bad: name is missing$/],
  ['name with a space', (s) => (s.name = 'my suite'), /^bad: name must match pattern .* \(found "my suite"\)$/],
  [
    'unknown dataset',
    (s) => (s.dataset = 'cifar'),
    new RegExp(
      '^bad: dataset is "cifar"; allowed: "mnist-embedded", "fashion-mnist", ' +
        '"image-folder:DIR", "cifar10:DIR", "idx:IMAGES,LABELS", ' +
        '"npy:IMAGES,LABELS"$',
    ),
  ],
  ['fractional seed', (s) => (s.seed = 1.5), /^bad: seed must be integer \(found 1.5\)$/],
  ['evaluation size 0', (s) => (s.evaluationSize = 0), /^bad: evaluationSize must be >= 1 \(found 0\)$/],
  ['no targets', (s) => (s.targets = []), /^bad: targets must NOT have fewer than 1 items \(found \[\]\)$/],
  ['targets not a list', (s) => (s.targets = 'mlp'), /^bad: targets must be array \(found "mlp"\)$/],
  ['repeated target', (s) => (s.targets = ['mlp', 'mlp']), /^bad: targets must NOT have duplicate items/],
  [
    'unknown oracle mode',
    (s) => (s.oracle.mode = 'logits'),
    /^bad: oracle.mode is "logits"; allowed: "probabilities", "top-k", "label"$/,
  ],
  ['oracle without mode', (s) => (s.oracle = {}), /^bad: oracle.mode is missing$/],
  [
    'unknown oracle isolation',
    (s) => (s.oracle.isolation = 'fibres'),
    /^bad: oracle.isolation is "fibres"; allowed: "threads", "processes"$/,
  ],
  ['top-k of 0', (s) => (s.oracle.topK = 0), /^bad: oracle.topK must be >= 1 \(found 0\)$/],
  [
    'unknown strategy',
    (s) => (s.substitutes[0].strategy = 'magic'),
    new RegExp(
      `^bad: substitutes\\[0\\].strategy is "magic"; allowed: ${allowed([...STRATEGIES.names(), 'ensemble'])}$`,
    ),
  ],
  [
    'unknown architecture',
    (s) => (s.substitutes[0].architectures = ['resnet']),
    new RegExp(
      `^bad: substitutes\\[0\\].architectures\\[0\\] is "resnet"; expected one of ${NETWORKS.names().join(', ')}, ` +
        `or a path to an ONNX model's descriptor \\(target.json format\\)$`,
    ),
  ],
  [
    'negative budget',
    (s) => (s.substitutes[1].budgets = [-1]),
    /^bad: substitutes\[1\].budgets\[0\] must be >= 0 \(found -1\)$/,
  ],
  [
    'misspelt key in a substitute',
    (s) => (s.substitutes[0].budget = 5),
    new RegExp(
      '^bad: substitutes\\[0\\]: unknown key "budget"; allowed keys: ' +
        'strategy, architectures, budgets, params, training, combine, members$',
    ),
  ],
  [
    'negative epochs',
    (s) => (s.substitutes[1].training.epochs = -1),
    /^bad: substitutes\[1\].training.epochs must be >= 0 \(found -1\)$/,
  ],
  [
    'unknown attack',
    (s) => (s.attacks[0].name = 'deepfool'),
    new RegExp(`^bad: attacks\\[0\\].name is "deepfool"; allowed: ${allowed(ATTACKS.names())}$`),
  ],
  [
    'unknown transformation',
    (s) => (s.attacks[0].transforms = ['rotate']),
    /^bad: attacks\[0\].transforms\[0\] is "rotate"; allowed: "di", "ti", "si", "admix"$/,
  ],
  [
    'a parameter the attack does not take',
    (s) => (s.attacks[0].params = { decay: 1 }),
    /^bad: attacks\[0\]: fgsm: parameter "decay": got 1, expected no parameter \(it takes none\)$/,
  ],
  [
    'an ensemble without members',
    (s) => (s.substitutes[0] = { strategy: 'ensemble' }),
    /^bad: substitutes\[0\].members is missing$/,
  ],
  [
    'an ensemble with architectures',
    (s) =>
      (s.substitutes[0] = {
        strategy: 'ensemble',
        architectures: ['mlp'],
        members: [{ strategy: 'ground-truth', architecture: 'mlp', budget: 0 }],
      }),
    /^bad: substitutes\[0\].architectures: an ensemble takes members/,
  ],
  [
    'members on a strategy',
    (s) => (s.substitutes[0].members = [{ strategy: 'ground-truth', architecture: 'mlp', budget: 0 }]),
    /^bad: substitutes\[0\].members: members belongs to strategy "ensemble", not ground-truth$/,
  ],
  [
    'an ensemble member without budget',
    (s) => (s.substitutes[0] = { strategy: 'ensemble', members: [{ strategy: 'ground-truth', architecture: 'mlp' }] }),
    /^bad: substitutes\[0\].members\[0\].budget is missing$/,
  ],
  [
    'a distillation member with no budget',
    (s) =>
      (s.substitutes[0] = {
        strategy: 'ensemble',
        members: [{ strategy: 'static-distillation', architecture: 'mlp', budget: 0 }],
      }),
    /^bad: substitutes\[0\].members\[0\].budget: static-distillation needs a budget of at least 1 query$/,
  ],
  [
    'a transformation parameter out of range',
    (s) => Object.assign(s.attacks[0], { name: 'mi-fgsm', transforms: ['ti'], params: { kernelSize: 4 } }),
    /^bad: attacks\[0\]: mi-fgsm\+ti: kernelSize: got 4, expected an odd integer >= 1$/,
  ],
  ['eps above 1', (s) => (s.attacks[1].eps = [2]), /^bad: attacks\[1\].eps\[0\] must be <= 1 \(found 2\)$/],
  ['eps not a list', (s) => (s.attacks[0].eps = 0.1), /^bad: attacks\[0\].eps must be array \(found 0.1\)$/],
  ['zero steps', (s) => (s.attacks[1].params.steps = 0), /^bad: attacks\[1\].params.steps must be >= 1 \(found 0\)$/],
  [
    'unknown norm',
    (s) => (s.attacks[1].params.norm = 'l1'),
    /^bad: attacks\[1\].params.norm is "l1"; allowed: "linf", "l2"$/,
  ],
  [
    'unknown attack parameter',
    (s) => (s.attacks[1].params.foo = 1),
    /^bad: attacks\[1\].params: unknown key "foo"; allowed keys: stepSize, steps, randomStart, norm, /,
  ],
  [
    'targetClass on an attack that picks its own target',
    (s) => Object.assign(s.attacks[0], { name: 'step-ll', targetClass: 'random' }),
    new RegExp(
      '^bad: attacks\\[0\\]: targetClass: step-ll picks its own target ' +
        '\\(the least-likely class\\); targetClass is for attacks that read ' +
        'labels$',
    ),
  ],
  [
    'targetClass on AdvGAN',
    (s) => Object.assign(s.attacks[0], { name: 'advgan', targetClass: 'least-likely' }),
    new RegExp(
      '^bad: attacks\\[0\\]: targetClass: advgan fits one untargeted ' +
        'generator per cell; targeted generators are not supported$',
    ),
  ],
  [
    'targetClass csv without a labels.csv',
    (s) => (s.attacks[0].targetClass = 'csv'),
    new RegExp(
      '^bad: attacks\\[0\\]: targetClass: "csv" reads labels.csv\'s ' +
        'targeted_label column, so it needs an image-folder: dataset, not ' +
        'mnist-embedded$',
    ),
  ],
  [
    'unknown targetClass',
    (s) => (s.attacks[0].targetClass = 'hardest'),
    /^bad: attacks\[0\].targetClass is "hardest"; allowed: "random", "least-likely", "csv"$/,
  ],
  [
    'unknown label source',
    (s) => (s.labelSources = ['guess']),
    /^bad: labelSources\[0\] is "guess"; allowed: "true", "predicted"$/,
  ],
  ['no label source', (s) => (s.labelSources = []), /^bad: labelSources must NOT have fewer than 1 items/],
  [
    'misspelt top-level key',
    (s) => (s.atacks = []),
    new RegExp(
      `^bad: \\(top level\\): unknown key "atacks"; allowed keys: ${Object.keys(suiteSchema().properties as object)
        .join(', ')
        .replace('$', '\\$')}$`,
    ),
  ],
  [
    'white-box with a budget',
    (s) => s.substitutes.push({ strategy: 'white-box', architectures: ['mlp'], budgets: [100] }),
    /^bad: substitutes\[2\].budgets must be \[0\] for white-box \(it spends no queries\)$/,
  ],
  [
    'lgv labelled by the target with no budget',
    (s) => s.substitutes.push({ strategy: 'lgv', architectures: ['mlp'], budgets: [0], params: { labels: 'target' } }),
    /^bad: substitutes\[2\].budgets: lgv needs a budget of at least 1 query$/,
  ],
  [
    'lgv with a misspelt parameter',
    (s) => s.substitutes.push({ strategy: 'lgv', architectures: ['mlp'], budgets: [0], params: { snapshots: 4 } }),
    /substitutes\[2\].*snapshots/,
  ],
  [
    'distillation with no budget',
    (s) => (s.substitutes[1].budgets = [0]),
    /^bad: substitutes\[1\].budgets: static-distillation needs a budget of at least 1 query$/,
  ],
  [
    'misspelt strategy parameter',
    (s) =>
      s.substitutes.push({
        strategy: 'dynamic-distillation',
        architectures: ['mlp'],
        budgets: [100],
        params: { roundz: 5 },
      }),
    /^bad: substitutes\[2\].params: unknown key "roundz"; allowed keys: rounds, attack, eps$/,
  ],
  [
    'parameter of a strategy that takes none',
    (s) => (s.substitutes[1].params = { rounds: 2 }),
    /^bad: substitutes\[1\].params: unknown key "rounds"; no keys are allowed here$/,
  ],
  [
    'strategy parameter out of range',
    (s) => s.substitutes.push({ strategy: 'jacobian', architectures: ['mlp'], budgets: [100], params: { lambda: 0 } }),
    /^bad: substitutes\[2\].params.lambda must be > 0 \(found 0\)$/,
  ],
  [
    'strategy parameter of the wrong type',
    (s) => (s.substitutes[0].params = { trainImages: 'all' }),
    /^bad: substitutes\[0\].params.trainImages must be integer \(found "all"\)$/,
  ],
  [
    'unknown attack for dynamic distillation',
    (s) =>
      s.substitutes.push({
        strategy: 'dynamic-distillation',
        architectures: ['mlp'],
        budgets: [100],
        params: { attack: 'deepfool' },
      }),
    new RegExp(`^bad: substitutes\\[2\\].params.attack is "deepfool"; allowed: ${allowed(ATTACKS.names())}$`),
  ],
  ['string seed', (s) => (s.seed = '7'), /^bad: seed must be integer \(found "7"\)$/],
  [
    'a trained substitute without architectures',
    (s) => delete s.substitutes[0].architectures,
    /^bad: substitutes\[0\].architectures is missing$/,
  ],
  [
    'pretrained with architectures',
    (s) =>
      s.substitutes.push({
        strategy: 'pretrained',
        architectures: ['mlp'],
        budgets: [0],
        params: { model: 'm/target.json' },
      }),
    /^bad: substitutes\[2\].architectures: pretrained brings its own network \(params.model\); remove "architectures"$/,
  ],
  [
    'pretrained without a model',
    (s) => s.substitutes.push({ strategy: 'pretrained', budgets: [0] }),
    new RegExp(
      '^bad: substitutes\\[2\\].params.model: pretrained needs the path of ' +
        "its surrogate's descriptor \\(target.json format\\)$",
    ),
  ],
  [
    'pretrained with a budget',
    (s) => s.substitutes.push({ strategy: 'pretrained', budgets: [10], params: { model: 'm/target.json' } }),
    /^bad: substitutes\[2\].budgets must be \[0\] for pretrained \(it spends no queries\)$/,
  ],
];

describe('suite validation', () => {
  it('accepts a valid suite', () => {
    assert.equal(parseSuite(structuredClone(VALID), 'ok').name, 'ok');
  });

  it('accepts lgv and swa at budget 0 when they label with the truth from a ground-truth base', () => {
    const suite = structuredClone(VALID) as Record<string, any>;
    suite.substitutes.push(
      { strategy: 'lgv', architectures: ['mlp'], budgets: [0], params: { extraEpochs: 2 } },
      { strategy: 'swa', architectures: ['mlp'], budgets: [500], params: { labels: 'target' } },
    );
    assert.doesNotThrow(() => parseSuite(suite, 'ok'));
  });

  it('accepts either oracle isolation, and gives every cell the same id under both', () => {
    const ids = (isolation: string) =>
      expandGrid(parseSuite({ ...structuredClone(VALID), oracle: { mode: 'probabilities', isolation } }, 'ok')).map(
        (c) => c.id,
      );
    assert.deepEqual(ids('processes'), ids('threads'));
    assert.deepEqual(
      ids('threads'),
      expandGrid(parseSuite(structuredClone(VALID), 'ok')).map((c) => c.id),
    );
  });

  it('accepts data sets named by path, as on the command line', () => {
    for (const dataset of ['image-folder:/data/nips2017', 'cifar10:/data/cifar-10-batches-bin', 'npy:x.npy,y.npy']) {
      assert.equal(parseSuite({ ...structuredClone(VALID), dataset }, 'ok').dataset, dataset);
    }
  });

  it('accepts a pretrained surrogate named by its descriptor, and names its cells after it', () => {
    const suite = structuredClone(VALID) as Record<string, any>;
    suite.substitutes = [
      { strategy: 'pretrained', budgets: [0], params: { model: 'surrogates/torch-cnn/target.json' } },
    ];
    const cells = expandGrid(parseSuite(suite, 'ok'));
    assert.ok(cells.length > 0);
    assert.ok(cells.every((c) => c.substitute.strategy === 'pretrained' && c.substitute.architecture === 'torch-cnn'));
  });

  it("runs an attack entry that lists architectures only on the suite's substitutes of those architectures", () => {
    const suite = structuredClone(VALID) as Record<string, any>;
    suite.substitutes = [{ strategy: 'ground-truth', architectures: ['mlp', 'cnn-small'], budgets: [0] }];
    suite.attacks = [
      { name: 'fgsm', eps: [0.1] },
      { name: 'mi-fgsm', eps: [0.1, 0.2], architectures: ['cnn-small'] },
    ];
    const parsed = parseSuite(suite, 'ok');
    const cells = expandGrid(parsed);
    assert.equal(cells.length, gridSize(parsed));
    assert.deepEqual(
      cells.map((c) => `${c.attack}@${c.substitute.architecture}`),
      ['fgsm@mlp', 'fgsm@cnn-small', 'mi-fgsm@cnn-small', 'mi-fgsm@cnn-small'],
    );
    suite.attacks[1].architectures = ['resnet8'];
    assert.throws(
      () => parseSuite(suite, 'bad'),
      (error: Error) =>
        new RegExp(
          '^bad: attacks\\[1\\]: architectures: "resnet8" is no substitute\'s ' +
            "architecture here \\(the suite's: mlp, cnn-small\\)$",
        ).test(error.message),
    );
  });

  for (const [what, mutate, expected] of MALFORMED) {
    it(`refuses ${what} with a one-line error naming the key`, () => {
      const suite = structuredClone(VALID) as Record<string, any>;
      mutate(suite);
      assert.throws(
        () => parseSuite(suite, 'bad'),
        (error: Error) => {
          assert.ok(!error.message.includes('\n'), `more than one line: ${error.message}`);
          assert.match(error.message, expected);
          return true;
        },
      );
    });
  }

  it('names the file when it is not JSON or not there', () => {
    const dir = tempDir();
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "name": ');
    assert.throws(() => loadSuite(file), /broken.json: not valid JSON/);
    assert.throws(
      () => loadSuite(join(dir, 'missing.json')),
      /missing.json: cannot read the suite \(ENOENT\); check the path/,
    );
  });
});
