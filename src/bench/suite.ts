import { ATTACKS, attackFor, LABEL_SOURCES, PARAMETERS, resolveParams, TRANSFORMS, type LabelSource, type ParamRange } from '../attacks/index.js';
import { ARCHITECTURES } from '../compute/architectures.js';
import { TransferbenchError } from '../common/errors.js';
import { parseDatasetSpec } from '../data/index.js';
import { readJsonFile, validateWith } from '../common/validate.js';
import { ORACLE_MODES, type OracleMode } from '../oracle/oracle.js';
import { paramsSchema, STRATEGIES, type TrainingConfig } from '../substitutes/index.js';

/** What a suite's `dataset` may name (checked by parseDatasetSpec in parseSuite). */
export const SUITE_DATASETS = ['mnist-embedded', 'fashion-mnist', 'image-folder:DIR', 'cifar10:DIR', 'idx:IMAGES,LABELS', 'npy:IMAGES,LABELS'] as const;

/** A benchmark suite: bench/*.json, checked against bench/suite.schema.json (the schema below). */
export interface Suite {
  $schema?: string;
  /** Names the output folder reports/<name>/. */
  name: string;
  /** A named data set or a spec with paths, as on the command line: one of SUITE_DATASETS. */
  dataset: string;
  /** Seed of the data split, substitute training and random attack starts. */
  seed: number;
  /** Images of the test split every cell is evaluated on. */
  evaluationSize: number;
  /** Zoo target names (targets/<name>/target.json) or paths to target.json files. */
  targets: string[];
  oracle: { mode: OracleMode; topK?: number; workers?: number };
  substitutes: {
    strategy: string;
    /** Required, except for `pretrained`, whose network is its own (named after params.model). */
    architectures?: string[];
    /** Substitute-training query budgets, one substitute per budget. */
    budgets: number[];
    params?: Record<string, number | string>;
    training?: Partial<TrainingConfig>;
  }[];
  /** Attacks by name, optionally with input transformations stacked on them ({ "name": "mi-fgsm", "transforms": ["di", "ti"] }). */
  attacks: { name: string; eps: number[]; transforms?: string[]; params?: Record<string, number | boolean | string> }[];
  labelSources: LabelSource[];
  /** Clean/adversarial image pairs kept per cell for the report's example grids (default 8; 0: none). */
  examples?: number;
  /** Goodfellow et al.'s rubbish-class inputs: Gaussian noise sent to every target, and the confidence it gets. */
  rubbish?: RubbishSpec;
  /** Output folder (default reports/<name>). */
  output?: string;
}

/** Noise images: pixels ~ N(mean, std) clipped to [0, 1]; `threshold` is the confidence counted as "classified". */
export interface RubbishSpec {
  samples: number;
  mean?: number;
  std?: number;
  threshold?: number;
}

export const DEFAULT_EXAMPLES = 8;
export const DEFAULT_RUBBISH = { mean: 0.5, std: 0.5, threshold: 0.5 } as const;

export const DEFAULT_TRAINING: TrainingConfig = { epochs: 5, batchSize: 64, learningRate: 0.001 };

let schema: Record<string, unknown> | undefined;

/** The suite schema (built once: ajv compiles it once per $id); bench/suite.schema.json is this, written by `npm run schema`. */
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
    required: ['name', 'dataset', 'seed', 'evaluationSize', 'targets', 'oracle', 'substitutes', 'attacks', 'labelSources'],
    properties: {
      $schema: { type: 'string' },
      name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$', description: 'names the output folder reports/<name>/' },
      dataset: { type: 'string', minLength: 1, description: `one of ${SUITE_DATASETS.join(', ')}` },
      seed: { type: 'integer' },
      evaluationSize: { type: 'integer', minimum: 1, maximum: 10000 },
      targets: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 }, description: 'zoo names or paths to target.json' },
      oracle: {
        type: 'object',
        additionalProperties: false,
        required: ['mode'],
        properties: {
          mode: { type: 'string', enum: [...ORACLE_MODES] },
          topK: { type: 'integer', minimum: 1 },
          workers: { type: 'integer', minimum: 1, maximum: 64 },
        },
      },
      substitutes: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          additionalProperties: false,
          // architectures: required by every strategy but pretrained (checked in parseSuite).
          required: ['strategy', 'budgets'],
          // Each strategy's own parameters: a misspelt key is an error, not a silent default.
          allOf: STRATEGIES.values().map((s) => ({
            if: { type: 'object', required: ['strategy'], properties: { strategy: { const: s.name } } },
            then: { type: 'object', properties: { params: paramsSchema(s.parameters) } },
          })),
          properties: {
            strategy: { type: 'string', enum: STRATEGIES.names() },
            architectures: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: ARCHITECTURES.names() } },
            budgets: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'integer', minimum: 0 } },
            params: { type: 'object', additionalProperties: { type: ['number', 'string'] } },
            training: {
              type: 'object',
              additionalProperties: false,
              properties: {
                epochs: { type: 'integer', minimum: 0 },
                batchSize: { type: 'integer', minimum: 1 },
                learningRate: { type: 'number', exclusiveMinimum: 0 },
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
            transforms: { type: 'array', uniqueItems: true, items: { type: 'string', enum: TRANSFORMS.names() }, description: 'input transformations applied to every gradient evaluation' },
            params: {
              type: 'object',
              additionalProperties: false,
              description: 'which parameters an attack takes: transferbench list attacks',
              properties: attackParamProperties(),
            },
          },
        },
      },
      labelSources: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...LABEL_SOURCES] } },
      examples: { type: 'integer', minimum: 0, maximum: 64, description: 'clean/adversarial pairs kept per cell for the example grids (default 8)' },
      rubbish: {
        type: 'object',
        additionalProperties: false,
        required: ['samples'],
        description: 'Gaussian-noise (rubbish-class) inputs sent to every target',
        properties: {
          samples: { type: 'integer', minimum: 1, maximum: 100000 },
          mean: { type: 'number', description: 'noise mean in pixel units (default 0.5)' },
          std: { type: 'number', exclusiveMinimum: 0, description: 'noise standard deviation (default 0.5); pixels are clipped to [0, 1]' },
          threshold: { type: 'number', minimum: 0, maximum: 1, description: 'confidence above which a noise image counts as classified (default 0.5)' },
        },
      },
      output: { type: 'string', minLength: 1 },
    },
  };
}

/** Every parameter a suite may set, with its range (whether this attack takes it is checked in parseSuite). */
function attackParamProperties(): Record<string, Record<string, unknown>> {
  const schemaOf = (range: ParamRange, description: string): Record<string, unknown> => {
    const { odd: _odd, ...json } = range;
    return { ...json, ...(json.enum ? { enum: [...json.enum] } : {}), description };
  };
  return Object.fromEntries(Object.entries(PARAMETERS).filter(([, p]) => !p.internal).map(([name, p]) => [name, schemaOf(p.range, p.description)]));
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
    throw new TransferbenchError('BAD_CONFIG', `${source}: dataset is ${JSON.stringify(suite.dataset)}; allowed: ${SUITE_DATASETS.map((d) => JSON.stringify(d)).join(', ')}`);
  }
  suite.substitutes.forEach((s, i) => {
    if ((s.strategy === 'white-box' || s.strategy === 'pretrained') && s.budgets.some((b) => b !== 0)) {
      throw new TransferbenchError('BAD_CONFIG', `${source}: substitutes[${i}].budgets must be [0] for ${s.strategy} (it spends no queries)`);
    }
    // Every strategy but pretrained trains one of our architectures; pretrained brings its own.
    if (s.strategy !== 'pretrained' && s.architectures === undefined) throw new TransferbenchError('BAD_CONFIG', `${source}: substitutes[${i}].architectures is missing`);
    if (s.strategy === 'pretrained') {
      if (s.architectures !== undefined) throw new TransferbenchError('BAD_CONFIG', `${source}: substitutes[${i}].architectures: pretrained brings its own network (params.model); remove "architectures"`);
      if (typeof s.params?.['model'] !== 'string') throw new TransferbenchError('BAD_CONFIG', `${source}: substitutes[${i}].params.model: pretrained needs the path of its surrogate's descriptor (target.json format)`);
    }
    if (!['ground-truth', 'white-box', 'pretrained'].includes(s.strategy) && s.budgets.some((b) => b === 0)) {
      throw new TransferbenchError('BAD_CONFIG', `${source}: substitutes[${i}].budgets: ${s.strategy} needs a budget of at least 1 query`);
    }
  });
  // Each attack's own parameters and transformations, resolved at every eps as the runner will.
  suite.attacks.forEach((a, i) => {
    try {
      const attack = attackFor(a.name, a.transforms);
      for (const eps of a.eps) resolveParams(attack, eps, a.params ?? {});
    } catch (error) {
      throw new TransferbenchError('BAD_CONFIG', `${source}: attacks[${i}]: ${(error as Error).message}`);
    }
  });
  return suite;
}
