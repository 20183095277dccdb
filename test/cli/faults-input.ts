import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { common, literal, onTarget, validate, withQueryCell, type Fault } from './faults-fixture.js';

/** The fault table's rows about the command line, suites, descriptors against their models, and data. */
export const INPUT_FAULTS: Fault[] = [
  // the command line
  {
    name: 'an unknown command',
    args: () => ['frobnicate'],
    status: 2,
    stderr: () => /^unknown command "frobnicate"; run `transferbench --help`$/,
  },
  {
    name: 'a bad --backend',
    args: () => ['backends', '--backend', 'gpu'],
    own: 'process',
    status: 2,
    stderr: () => /^--backend \(or TRANSFERBENCH_BACKEND\): got "gpu", expected one of tensorflow, wasm, cpu$/,
  },
  {
    name: 'a bad --engine',
    args: () => ['targets', 'build', '--engine', 'torch'],
    status: 2,
    stderr: () => /^--engine \(or TRANSFERBENCH_ENGINE\): got "torch", expected one of onnxruntime, tfjs, auto$/,
  },
  {
    name: 'a bad --train-threads',
    args: () => ['targets', 'build', '--train-threads', 'two'],
    status: 2,
    stderr: () => /^--train-threads \(or TRANSFERBENCH_TRAIN_THREADS\): got "two", expected a positive integer$/,
  },
  {
    name: 'a shard past N',
    own: 'process',
    args: (c) => ['run', c.suite('s', withQueryCell), '--shard', '4/3', ...common(c)],
    status: 2,
    stderr: () => /^--shard: got "4\/3", expected K\/N with 1 <= K <= N \(e\.g\. 2\/3\)$/,
  },
  {
    name: 'an unknown --shard-by',
    own: 'process',
    args: (c) => ['run', c.suite('s', withQueryCell), '--shard-by', 'size', ...common(c)],
    status: 2,
    stderr: () => /^--shard-by: got "size", expected "round-robin" \(the default\) or "cost"$/,
  },
  {
    name: 'a --parallel of 0',
    own: 'process',
    args: (c) => ['run', c.suite('s', withQueryCell), '--parallel', '0', ...common(c)],
    status: 2,
    stderr: () => /^--parallel: got "0", expected a positive integer$/,
  },
  {
    name: 'a suite file that does not exist',
    args: (c) => validate(c, join(c.dir, 'nope.json')),
    status: 2,
    stderr: (c) =>
      new RegExp(`^${literal(join(c.dir, 'nope.json'))}: cannot read the suite \\(ENOENT\\); check the path$`),
  },
  {
    name: 'a suite that is not JSON',
    setup: (c) => {
      writeFileSync(join(c.dir, 'broken.json'), '{ "name": ');
      return join(c.dir, 'broken.json');
    },
    args: (c, suite) => validate(c, suite),
    status: 2,
    stderr: (_, suite) => new RegExp(`^${literal(suite)}: not valid JSON \\(.*\\)$`),
  },
  // a descriptor against its model, and data against the target (validate needs no training)
  ...(
    [
      [
        'classNames with 5 entries for 10 outputs',
        'names-5',
        'classNames has 5 entries, but the model outputs 10 classes',
      ],
      [
        'classNames with 12 entries for 10 outputs',
        'names-12',
        'classNames has 12 entries, but the model outputs 10 classes',
      ],
      ['outputKind "probabilities" on a logits model', 'says-probabilities', 'outputKind is "probabilities", but'],
      [
        'outputKind "log-probabilities" on a logits model',
        'says-log-probabilities',
        'outputKind is "log-probabilities", but',
      ],
      [
        'layout NHWC with inputShape [28, 28, 1] on an NCHW model',
        'says-nhwc',
        'layout NHWC with inputShape [28, 28, 1], but',
      ],
      ['an output of [batch, 2, 5] described as 10 classes', 'rank3', 'is [batch, 2, 5]; a classifier'],
      ['an inputRange the wrong way round', 'range-reversed', 'inputRange'],
      [
        'a model that changed since its descriptor',
        'changed-model',
        'the model changed since the descriptor was written',
      ],
    ] as const
  ).map(
    ([name, target, message]): Fault => ({
      name,
      args: (c) => validate(c, c.suite(`v-${target}`, onTarget(target))),
      status: 2,
      stderr: (c) => new RegExp(`^${literal(join(c.targetsDir, target))}.*${literal(message)}`),
    }),
  ),
  {
    name: 'an image-folder label 12 for a 10-class target',
    args: (c) =>
      validate(
        c,
        c.suite('v-label-12', (s) => {
          s.dataset = 'label-12';
          s.evaluationSize = 2;
        }),
      ),
    status: 2,
    stderr: () => /has label 12, but the target has 10 classes \(0-9\)$/,
  },
  {
    name: 'an evaluationSize above the test split',
    args: (c) =>
      validate(
        c,
        c.suite('v-9000', (s) => (s.evaluationSize = 9000)),
      ),
    status: 2,
    stderr: () =>
      /evaluationSize is 9000, but the test split of mnist-embedded\/test has 2000 images; ask for at most 2000$/,
  },
  {
    name: 'a query attack starting from a substitute the suite does not have (only an ensemble of substitutes)',
    args: (c) =>
      validate(
        c,
        c.suite('v-start', (s) => {
          s.substitutes = [
            {
              strategy: 'ensemble',
              members: [{ strategy: 'ground-truth', architecture: 'mlp', budget: 0, training: { epochs: 1 } }],
            },
          ];
          s.queryAttacks = { budgets: [5], images: 2, attacks: [{ name: 'simba-dct', eps: [0.1], start: 'fgsm' }] };
        }),
      ),
    status: 2,
    stderr: () =>
      new RegExp(
        'queryAttacks\\.attacks\\[0\\] \\(simba-dct, start "fgsm"\\) needs a ' +
          'substitute to start from or be guided by, and the suite has none but ' +
          'ensembles \\(give their members as substitutes of their own\\)$',
      ),
  },
  {
    name: 'a target that is not built (validate counts query cells too when it is)',
    own: 'process',
    args: (c) => ['run', c.suite('v-missing', onTarget('mnist-mlp')), ...common(c)],
    status: 2,
    stderr: (c) =>
      new RegExp(
        `^shard 1/1 on node ${literal(hostname())}: target mnist-mlp is not built here ` +
          `\\(${literal(join(c.targetsDir, 'mnist-mlp', 'target.json'))} is missing\\)`,
      ),
  },
  {
    name: 'validate counts query cells beside transfer cells (they were missing from its count)',
    args: (c) =>
      validate(
        c,
        c.suite('v-queries', (s) => {
          s.queryAttacks = { budgets: [5], images: 2, attacks: [{ name: 'square-linf', eps: [0.1] }] };
        }),
      ),
    status: 0,
    stderr: () => /^$/,
    stdout: () => /valid suite "v-queries", 3 cells \(2 transfer, 1 query\)/,
  },
  {
    name: "a resumed run counts query cells in what it skipped (they were missing from 'ran N cell(s)')",
    own: 'process',
    setup: (c) => c.copy(c.single),
    args: (c, out) => [
      'run',
      c.suite('s', withQueryCell),
      '--out',
      out,
      '--resume',
      ...common(c).filter((a) => a !== '--quiet'),
    ],
    status: 0,
    stderr: () => /^$/,
    stdout: () => /ran 0 cell\(s\), skipped 3 already done/,
  },
  {
    name: 'balance of a suite with a pretrained substitute (was: unknown architecture "cnn")',
    own: 'process',
    args: (c) => ['balance', c.suite('s', withQueryCell), '2'],
    status: 0,
    stderr: () => /^$/,
    stdout: () => /^max\/mean +1\.00 +1\.00$/m,
  },
];
