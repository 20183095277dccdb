import {
  ATTACKS,
  attackFor,
  LABEL_SOURCES,
  resolveParams,
  TARGET_CLASSES,
  TRANSFORMS,
  type Attack,
  type TargetClassSource,
} from '../attacks/index.js';
import { NETWORKS } from '../compute/network/architectures.js';
import { TransferbenchError } from '../common/errors.js';
import { paramProperties, paramsSchema } from '../common/params.js';
import { parseDatasetSpec } from '../data/index.js';
import { readJsonFile, validateWith } from '../common/validate.js';
import { ORACLE_MODES } from '../oracle/oracle.js';
import { ORACLE_ISOLATIONS } from '../oracle/pool.js';
import { STRATEGIES } from '../substitutes/index.js';
import { suiteArchitectures } from './grid.js';
import { checkQuerySuite, querySuiteSchema } from './query-grid.js';
import { ENSEMBLE_COMBINATIONS } from '../compute/ensemble-surrogate.js';
import { ENSEMBLE, REPLICATE_TARGETS, SUITE_DATASETS, type Suite } from './suite-types.js';

export {
  DEFAULT_EXAMPLES,
  DEFAULT_RUBBISH,
  DEFAULT_TRAINING,
  SUITE_DATASETS,
  replicateSeeds,
  retrainsTargets,
  type EnsembleMember,
  type RubbishSpec,
  type Suite,
} from './suite-types.js';

/** Each strategy's own parameters: a misspelt key is an error, not a silent default. */
function strategyParams(): Record<string, unknown>[] {
  return STRATEGIES.values().map((s) => ({
    if: { type: 'object', required: ['strategy'], properties: { strategy: { const: s.name } } },
    then: { type: 'object', properties: { params: paramsSchema(s.parameters) } },
  }));
}

const TRAINING_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    epochs: { type: 'integer', minimum: 0 },
    batchSize: { type: 'integer', minimum: 1 },
    learningRate: { type: 'number', exclusiveMinimum: 0 },
    init: {
      type: 'string',
      enum: ['given', 'fresh'],
      description:
        "an ONNX file's architecture: fine-tune from its weights (given, the default) or from a fresh seeded start",
    },
  },
} as const;

/** A registered architecture, or the path of a target.json-format descriptor of an ONNX file to train or fine-tune. */
const ARCHITECTURE_SCHEMA = {
  type: 'string',
  anyOf: [{ enum: NETWORKS.names() }, { pattern: '\\.json$' }],
  description: `one of ${NETWORKS.names().join(', ')}, or a path to an ONNX model's descriptor (target.json format)`,
} as const;

let schema: Record<string, unknown> | undefined;

/**
 * The suite schema (built once: ajv compiles it once per $id); bench/suite.schema.json is this, written by `npm run
 * schema`.
 */
export function suiteSchema(): Record<string, unknown> {
  schema ??= buildSchema();
  return schema;
}

function buildSchema(): Record<string, unknown> {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://transferbench.dev/suite.schema.json',
    title: 'transferbench suite',
    type: 'object',
    additionalProperties: false,
    required: [
      'name',
      'dataset',
      'seed',
      'evaluationSize',
      'targets',
      'oracle',
      'substitutes',
      'attacks',
      'labelSources',
    ],
    properties: {
      $schema: { type: 'string' },
      name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$', description: 'names the output folder reports/<name>/' },
      dataset: { type: 'string', minLength: 1, description: `one of ${SUITE_DATASETS.join(', ')}` },
      seed: { type: 'integer' },
      evaluationSize: { type: 'integer', minimum: 1, maximum: 10000 },
      targets: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', minLength: 1 },
        description: 'zoo names or paths to target.json',
      },
      oracle: {
        type: 'object',
        additionalProperties: false,
        required: ['mode'],
        properties: {
          mode: { type: 'string', enum: [...ORACLE_MODES] },
          topK: { type: 'integer', minimum: 1 },
          workers: { type: 'integer', minimum: 1, maximum: 64 },
          isolation: {
            type: 'string',
            enum: [...ORACLE_ISOLATIONS],
            description:
              'where the oracle pool runs onnxruntime: "threads" (default, piscina worker threads) or "processes" ' +
              '(child processes, which survive being killed at any instant; slower on small models)',
          },
        },
      },
      substitutes: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['strategy'],
          allOf: [
            ...strategyParams(),
            // An ensemble names members; every other entry its architectures and budgets.
            // (ajv's strict mode wants required keys named in the same subschema: hence the `true`s.)
            {
              if: { type: 'object', required: ['strategy'], properties: { strategy: { const: ENSEMBLE } } },
              then: { properties: { members: true }, required: ['members'] },
              // (architectures: required by every strategy but pretrained, which brings its own network; checked in
              // parseSuite)
              else: { properties: { architectures: true, budgets: true }, required: ['budgets'] },
            },
          ],
          properties: {
            strategy: {
              type: 'string',
              enum: [...STRATEGIES.names(), ENSEMBLE],
              description: `a substitute strategy, or "${ENSEMBLE}" with members`,
            },
            architectures: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: ARCHITECTURE_SCHEMA,
            },
            budgets: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'integer', minimum: 0 } },
            params: { type: 'object', additionalProperties: { type: ['number', 'string'] } },
            training: TRAINING_SCHEMA,
            combine: {
              type: 'string',
              enum: [...ENSEMBLE_COMBINATIONS],
              description: 'an ensemble: average the logits (default) or the losses',
            },
            members: {
              type: 'array',
              minItems: 1,
              description: 'the substitutes an ensemble averages the logits of',
              items: {
                type: 'object',
                additionalProperties: false,
                required: ['strategy', 'architecture', 'budget'],
                allOf: strategyParams(),
                properties: {
                  strategy: { type: 'string', enum: STRATEGIES.names() },
                  architecture: ARCHITECTURE_SCHEMA,
                  budget: { type: 'integer', minimum: 0 },
                  params: { type: 'object', additionalProperties: { type: ['number', 'string'] } },
                  training: TRAINING_SCHEMA,
                },
              },
            },
          },
        },
      },
      attacks: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'eps'],
          properties: {
            name: { type: 'string', enum: ATTACKS.names() },
            eps: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'number', minimum: 0, maximum: 1 } },
            transforms: {
              type: 'array',
              uniqueItems: true,
              items: { type: 'string', enum: TRANSFORMS.names() },
              description: 'input transformations applied to every gradient evaluation',
            },
            targetClass: {
              type: 'string',
              enum: TARGET_CLASSES,
              description:
                'targeted transfer: random (seeded), least-likely (on the surrogate) or csv (targeted_label)',
            },
            params: {
              type: 'object',
              additionalProperties: false,
              description: 'which parameters an attack takes: transferbench list attacks',
              properties: attackParamProperties(),
            },
            architectures: {
              type: 'array',
              minItems: 1,
              uniqueItems: true,
              items: { type: 'string', minLength: 1 },
              description: "only on the suite's substitutes of these architectures (default all)",
            },
          },
        },
      },
      labelSources: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: { type: 'string', enum: [...LABEL_SOURCES] },
      },
      examples: {
        type: 'integer',
        minimum: 0,
        maximum: 64,
        description: 'clean/adversarial pairs kept per cell for the example grids (default 8)',
      },
      rubbish: {
        type: 'object',
        additionalProperties: false,
        required: ['samples'],
        description: 'Gaussian-noise (rubbish-class) inputs sent to every target',
        properties: {
          samples: { type: 'integer', minimum: 1, maximum: 100000 },
          mean: { type: 'number', description: 'noise mean in pixel units (default 0.5)' },
          std: {
            type: 'number',
            exclusiveMinimum: 0,
            description: 'noise standard deviation (default 0.5); pixels are clipped to [0, 1]',
          },
          threshold: {
            type: 'number',
            minimum: 0,
            maximum: 1,
            description: 'confidence above which a noise image counts as classified (default 0.5)',
          },
        },
      },
      replicates: replicatesSchema(),
      queryAttacks: querySuiteSchema(),
      output: { type: 'string', minLength: 1 },
    },
  };
}

function replicatesSchema(): Record<string, unknown> {
  // One schema for the three forms (keywords apply by type), so a wrong value gets one message, not one per form.
  const count = { type: 'integer', minimum: 1, maximum: 100 };
  const seeds = { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'integer' } };
  return {
    description:
      'repetitions of the grid, each retraining the substitutes from its seed and drawing its own evaluation images: ' +
      'a count, a list of seeds, or { count | seeds, targets: "retrain" } to retrain the zoo targets too',
    type: ['integer', 'array', 'object'],
    minimum: 1,
    maximum: 100,
    minItems: 1,
    uniqueItems: true,
    items: { type: 'integer' },
    additionalProperties: false,
    properties: { count, seeds, targets: { type: 'string', enum: [...REPLICATE_TARGETS] } },
  };
}

/**
 * Every parameter a suite may set, with its range: what the attacks and transformations declare (whether this attack
 * takes it is checked in parseSuite; a name several declare has one range, which a test holds).
 */
function attackParamProperties(): Record<string, Record<string, unknown>> {
  return paramProperties([...ATTACKS.values(), ...TRANSFORMS.values()].flatMap((a) => a.parameters));
}

/** Reads and checks a suite file; every problem is reported with its JSON path and the fix. */
export function loadSuite(path: string): Suite {
  return parseSuite(readJsonFile(path, 'the suite'), path);
}

export function parseSuite(raw: unknown, source: string): Suite {
  const suite = validateWith<Suite>(suiteSchema(), raw, source);
  try {
    parseDatasetSpec(suite.dataset);
  } catch {
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${source}: dataset is ${JSON.stringify(suite.dataset)}; allowed: ` +
        `${SUITE_DATASETS.map((d) => JSON.stringify(d)).join(', ')}`,
    );
  }
  const checkBudgets = (
    where: string,
    strategy: string,
    budgets: readonly number[],
    params: Readonly<Record<string, unknown>> = {},
  ) => {
    if ((strategy === 'white-box' || strategy === 'pretrained') && budgets.some((b) => b !== 0)) {
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${source}: ${where} must be ${where.endsWith('budgets') ? '[0]' : '0'} for ${strategy} (it spends no queries)`,
      );
    }
    // lgv and swa query the target only for its labels or a distilled base (src/substitutes/weight-vicinity.ts).
    const queryFree =
      ['ground-truth', 'white-box', 'pretrained'].includes(strategy) ||
      (['lgv', 'swa'].includes(strategy) && params.labels !== 'target' && params.base !== 'static-distillation');
    if (!queryFree && budgets.some((b) => b === 0)) {
      throw new TransferbenchError('BAD_CONFIG', `${source}: ${where}: ${strategy} needs a budget of at least 1 query`);
    }
  };
  suite.substitutes.forEach((s, i) => {
    const ensemble = s.strategy === ENSEMBLE;
    const misplaced = ensemble
      ? (['architectures', 'budgets', 'params', 'training'] as const).find((k) => s[k] !== undefined)
      : (['members', 'combine'] as const).find((k) => s[k] !== undefined);
    if (misplaced !== undefined) {
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${source}: substitutes[${i}].${misplaced}: ` +
          (ensemble
            ? `an ${ENSEMBLE} takes members (each with its own architecture, budget, params and training), ` +
              `not ${misplaced}`
            : `${misplaced} belongs to strategy "${ENSEMBLE}", not ${s.strategy}`),
      );
    }
    // Every strategy but pretrained trains one of our architectures; pretrained brings its own.
    if (!ensemble && s.strategy !== 'pretrained' && s.architectures === undefined)
      throw new TransferbenchError('BAD_CONFIG', `${source}: substitutes[${i}].architectures is missing`);
    if (s.strategy === 'pretrained') {
      if (s.architectures !== undefined)
        throw new TransferbenchError(
          'BAD_CONFIG',
          `${source}: substitutes[${i}].architectures: pretrained brings ` +
            `its own network (params.model); remove "architectures"`,
        );
      if (typeof s.params?.model !== 'string')
        throw new TransferbenchError(
          'BAD_CONFIG',
          `${source}: substitutes[${i}].params.model: pretrained needs ` +
            `the path of its surrogate's descriptor (target.json format)`,
        );
    }
    if (s.members === undefined) checkBudgets(`substitutes[${i}].budgets`, s.strategy, s.budgets ?? [], s.params);
    else
      s.members.forEach((m, j) =>
        checkBudgets(`substitutes[${i}].members[${j}].budget`, m.strategy, [m.budget], m.params),
      );
  });
  // Each attack's own parameters and transformations, resolved at every eps as the runner will.
  suite.attacks.forEach((a, i) => {
    try {
      const attack = attackFor(a.name, a.transforms);
      for (const eps of a.eps) resolveParams(attack, eps, a.params ?? {});
      if (a.targetClass !== undefined) checkTargeted(attack, a.targetClass, suite.dataset);
      const known = suiteArchitectures(suite);
      const unknown = (a.architectures ?? []).filter((name) => !known.includes(name));
      if (unknown.length > 0)
        throw new TransferbenchError(
          'BAD_CONFIG',
          `architectures: ${unknown.map((u) => `"${u}"`).join(', ')} is no substitute's architecture here ` +
            `(the suite's: ${known.join(', ')})`,
        );
    } catch (error) {
      throw new TransferbenchError('BAD_CONFIG', `${source}: attacks[${i}]: ${(error as Error).message}`);
    }
  });
  const r = suite.replicates;
  if (typeof r === 'object' && !Array.isArray(r) && (r.count === undefined) === (r.seeds === undefined))
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${source}: replicates: give either "count" or "seeds" (found ${r.count === undefined ? 'neither' : 'both'})`,
    );
  checkQuerySuite(suite, source);
  return suite;
}

/** Whether an attack can aim at given classes, and the data has them when they come from a CSV. */
function checkTargeted(attack: Attack, source: TargetClassSource, dataset: string): void {
  if (!attack.usesLabels)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `targetClass: ${attack.name} picks its own target (the least-likely class); targetClass is for attacks that ` +
        'read labels',
    );
  if (attack.kind === 'generative')
    throw new TransferbenchError(
      'BAD_CONFIG',
      `targetClass: ${attack.name} fits one untargeted generator per cell; targeted generators are not supported`,
    );
  if (source === 'csv' && parseDatasetSpec(dataset).kind !== 'image-folder')
    throw new TransferbenchError(
      'BAD_CONFIG',
      `targetClass: "csv" reads labels.csv's targeted_label column, so it needs an image-folder: dataset, ` +
        `not ${dataset}`,
    );
}
