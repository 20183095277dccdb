import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { JSONSchemaType } from 'ajv';
import { TransferbenchError } from '../common/errors.js';
import { readJsonFile, validateWith } from '../common/validate.js';

export const LAYOUTS = ['NHWC', 'NCHW'] as const;
export type Layout = (typeof LAYOUTS)[number];
/**
 * How to read the model's output: logits (softmax applied), probabilities (taken as they are), or
 * log-probabilities per class that need not sum to one (exp applied, not renormalised), as for an
 * RBF network whose confidence in each class is its own Gaussian bump (Goodfellow et al.).
 */
export const OUTPUT_KINDS = ['logits', 'probabilities', 'log-probabilities'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];

/**
 * `targets/<name>/target.json`: everything the oracle needs to query an ONNX classifier, and
 * nothing an attacker may use beyond its answers.
 */
export interface TargetDescriptor {
  /** Short name used in leaderboards. */
  name: string;
  /** The ONNX file, relative to the descriptor. */
  model: string;
  /** sha256 of the ONNX file; a model that differs is refused. */
  sha256: string;
  inputName: string;
  outputName: string;
  /** Memory layout the model expects; images are NHWC in transferbench and transposed in the worker. */
  layout: Layout;
  /** One image's input shape in the model's layout, without the batch: [H, W, C] or [C, H, W]. */
  inputShape: number[];
  /** Pixels in [0, 1] are first mapped linearly onto this range (e.g. [0, 255])... */
  inputRange: [number, number];
  /** ...then normalised per channel: (v - mean[c]) / std[c]. */
  normalization: { mean: number[]; std: number[] };
  outputKind: OutputKind;
  classNames: string[];
  /** The data set it was trained on (for reports). */
  dataset: string;
  /** Clean accuracy on that data set's test split, if known. */
  cleanAccuracy?: number;
  /** The zoo recipe it was built from; absent for foreign models. */
  recipe?: Record<string, unknown>;
  /**
   * An input defence the model is wrapped in (src/oracle/defences): it runs in the oracle's worker, so the
   * attacker's side never sees its kind, parameters or seed.
   */
  defence?: { name: string; params?: Record<string, number>; seed?: number };
}

/**
 * A descriptor's or a zoo recipe's `defence` (src/oracle/defences checks the name and the
 * parameters when the oracle opens the target).
 */
export const DEFENCE_SCHEMA = {
  type: 'object',
  nullable: true,
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string' },
    params: { type: 'object', nullable: true, required: [], additionalProperties: { type: 'number' } },
    seed: { type: 'integer', nullable: true },
  },
} as never;

export const TARGET_SCHEMA: JSONSchemaType<TargetDescriptor> = {
  type: 'object',
  additionalProperties: false,
  required: [
    'name',
    'model',
    'sha256',
    'inputName',
    'outputName',
    'layout',
    'inputShape',
    'inputRange',
    'normalization',
    'outputKind',
    'classNames',
    'dataset',
  ],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$' },
    model: { type: 'string', minLength: 1 },
    sha256: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    inputName: { type: 'string', minLength: 1 },
    outputName: { type: 'string', minLength: 1 },
    layout: { type: 'string', enum: [...LAYOUTS] },
    inputShape: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 3, maxItems: 3 },
    inputRange: { type: 'array', items: [{ type: 'number' }, { type: 'number' }], minItems: 2, maxItems: 2 } as never,
    normalization: {
      type: 'object',
      additionalProperties: false,
      required: ['mean', 'std'],
      properties: {
        mean: { type: 'array', items: { type: 'number' }, minItems: 1 },
        std: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1 },
      },
    },
    outputKind: { type: 'string', enum: [...OUTPUT_KINDS] },
    classNames: { type: 'array', items: { type: 'string' }, minItems: 2 },
    dataset: { type: 'string' },
    cleanAccuracy: { type: 'number', minimum: 0, maximum: 1, nullable: true },
    recipe: { type: 'object', nullable: true, required: [] },
    defence: DEFENCE_SCHEMA,
  },
};

/** A descriptor checked against its schema and its model file. */
export interface ResolvedTarget {
  readonly descriptor: TargetDescriptor;
  /** Absolute path of the ONNX file. */
  readonly modelPath: string;
  readonly descriptorPath: string;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Channels of the model input, from its layout. */
export function channelsOf(d: Pick<TargetDescriptor, 'layout' | 'inputShape'>): number {
  return (d.layout === 'NHWC' ? d.inputShape[2] : d.inputShape[0]) as number;
}

/** Reads, validates and verifies a target descriptor (schema, model present, sha256 matches). */
export function loadTarget(descriptorPath: string): ResolvedTarget {
  const raw = readJsonFile(descriptorPath, 'the target descriptor');
  const descriptor = validateWith<TargetDescriptor>(TARGET_SCHEMA, raw, descriptorPath);
  const [low, high] = descriptor.inputRange;
  // A reversed range would map every pixel through a negative scale: the model sees inverted images.
  if (!(low < high))
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${descriptorPath}: inputRange is [${low}, ${high}]; give [low, high] with low < high (e.g. [0, 1] or [0, 255])`,
    );
  const channels = channelsOf(descriptor);
  for (const key of ['mean', 'std'] as const) {
    const length = descriptor.normalization[key].length;
    if (length !== 1 && length !== channels) {
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${descriptorPath}: normalization.${key} has ${length} values; expected 1 or one per channel (${channels})`,
      );
    }
  }
  const modelPath = resolve(dirname(descriptorPath), descriptor.model);
  let actual: string;
  try {
    actual = sha256File(modelPath);
  } catch {
    throw new TransferbenchError(
      'BAD_MODEL',
      `${descriptorPath}: model file ${modelPath} not found; build it (transferbench targets build) or fix "model"`,
    );
  }
  if (actual !== descriptor.sha256) {
    throw new TransferbenchError(
      'BAD_MODEL',
      `${descriptorPath}: ${modelPath} has sha256 ${actual}, the descriptor ` +
        `says ${descriptor.sha256}; the model changed since the descriptor ` +
        `was written (rebuild it, or update "sha256" if the change is ` +
        `intended)`,
    );
  }
  return { descriptor, modelPath, descriptorPath: resolve(descriptorPath) };
}
