import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JSONSchemaType } from 'ajv';
import { atomicWrite } from '../common/files.js';
import { trainNetwork } from '../compute/engine.js';
import { buildNetwork, NETWORKS } from '../compute/network/architectures.js';
import { networkBytes } from '../compute/network/network.js';
import { networkLogits } from '../compute/network/run.js';
import { accuracy, argmaxRows } from '../compute/train.js';
import { TransferbenchError } from '../common/errors.js';
import { readJsonFile, validateWith } from '../common/validate.js';
import type { Split } from '../data/index.js';
import { adversarialTransform, type AdversarialTraining } from './adversarial-training.js';
import { DEFENCE_SCHEMA, sha256File, type TargetDescriptor } from './descriptor.js';
import { INPUT_NAME, OUTPUT_NAME } from './onnx/export.js';

/** One default target, as data: `targets/zoo.json` lists these. */
export interface TargetRecipe {
  name: string;
  architecture: string;
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** How many training images to use (all when absent). */
  trainImages?: number;
  adversarialTraining?: AdversarialTraining;
  /** An input defence the built target wraps its model in (src/oracle/defences), written into its descriptor. */
  defence?: TargetDescriptor['defence'];
  description?: string;
}

export interface Zoo {
  $schema?: string;
  dataset: string;
  targets: TargetRecipe[];
}

const RECIPE_SCHEMA: JSONSchemaType<TargetRecipe> = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'architecture', 'epochs', 'batchSize', 'learningRate', 'seed'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9._-]+$' },
    architecture: { type: 'string', enum: NETWORKS.names() },
    epochs: { type: 'integer', minimum: 0 },
    batchSize: { type: 'integer', minimum: 1 },
    learningRate: { type: 'number', exclusiveMinimum: 0 },
    seed: { type: 'integer' },
    trainImages: { type: 'integer', minimum: 1, nullable: true },
    description: { type: 'string', nullable: true },
    defence: DEFENCE_SCHEMA,
    adversarialTraining: {
      type: 'object',
      nullable: true,
      required: ['method'],
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['method', 'eps', 'alpha'],
          properties: {
            method: { type: 'string', const: 'goodfellow' },
            eps: { type: 'number', minimum: 0, maximum: 1 },
            alpha: { type: 'number', minimum: 0, maximum: 1 },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['method', 'epsStd', 'fraction', 'lambda'],
          properties: {
            method: { type: 'string', const: 'kurakin' },
            epsStd: { type: 'number', minimum: 0, maximum: 0.5 },
            fraction: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
            lambda: { type: 'number', minimum: 0 },
            attack: { type: 'string', enum: ['step-ll', 'fgsm'] },
          },
        },
      ],
    } as never,
  },
};

export const ZOO_SCHEMA: JSONSchemaType<Zoo> = {
  type: 'object',
  additionalProperties: false,
  required: ['dataset', 'targets'],
  properties: {
    $schema: { type: 'string', nullable: true },
    dataset: { type: 'string', enum: ['mnist-embedded', 'fashion-mnist'] },
    targets: { type: 'array', items: RECIPE_SCHEMA, minItems: 1 },
  },
};

export function loadZoo(path: string): Zoo {
  const raw = readJsonFile(path, 'zoo recipes');
  const zoo = validateWith<Zoo>(ZOO_SCHEMA, raw, path);
  const seen = new Set<string>();
  for (const [i, recipe] of zoo.targets.entries()) {
    if (seen.has(recipe.name))
      throw new TransferbenchError(
        'BAD_CONFIG',
        `${path}: targets[${i}].name "${recipe.name}" appears twice; names must be unique`,
      );
    seen.add(recipe.name);
  }
  return zoo;
}

export interface BuiltTarget {
  readonly name: string;
  readonly cleanAccuracy: number;
  readonly trainSeconds: number;
  readonly descriptorPath: string;
}

/**
 * Trains one recipe's network on the onnxruntime engine (its adversarial training crafting on the
 * network as trained so far) and writes `<out>/<name>/model.onnx` and `target.json`: the ONNX
 * graph is the target, what the oracle serves and what the white-box reference attacks.
 */
export async function buildTarget(
  recipe: TargetRecipe,
  split: Split,
  datasetName: string,
  outDir: string,
): Promise<BuiltTarget> {
  const { train, test } = split;
  const imageShape = train.imageShape;
  const count = Math.min(recipe.trainImages ?? train.labels.length, train.labels.length);
  const size = imageShape[0] * imageShape[1] * imageShape[2];
  const classes = train.classNames.length;
  const untrained = buildNetwork(recipe.architecture, { imageShape, classes, seed: recipe.seed });
  const { network, result } = await trainNetwork(
    untrained,
    { images: train.images.subarray(0, count * size), imageShape, targets: train.labels.subarray(0, count), classes },
    {
      epochs: recipe.epochs,
      batchSize: recipe.batchSize,
      learningRate: recipe.learningRate,
      seed: recipe.seed,
      ...(recipe.adversarialTraining
        ? { transform: adversarialTransform(recipe.adversarialTraining, recipe.seed) }
        : {}),
    },
  );
  const cleanAccuracy = accuracy(argmaxRows(await networkLogits(network, test.images), classes), test.labels);
  const dir = join(outDir, recipe.name);
  mkdirSync(dir, { recursive: true });
  const modelPath = join(dir, 'model.onnx');
  atomicWrite(
    modelPath,
    networkBytes(network, `transferbench zoo target ${recipe.name}`, { images: INPUT_NAME, logits: OUTPUT_NAME }),
  );
  const descriptor: TargetDescriptor = {
    name: recipe.name,
    model: 'model.onnx',
    sha256: sha256File(modelPath),
    inputName: INPUT_NAME,
    outputName: OUTPUT_NAME,
    layout: 'NHWC',
    inputShape: [...imageShape],
    inputRange: [0, 1],
    normalization: { mean: [0], std: [1] },
    outputKind: network.outputKind,
    classNames: [...train.classNames],
    dataset: datasetName,
    cleanAccuracy,
    recipe: { ...recipe },
    // The clean accuracy above is the bare model's; the defence acts only when the oracle answers.
    ...(recipe.defence ? { defence: recipe.defence } : {}),
  };
  const descriptorPath = join(dir, 'target.json');
  atomicWrite(descriptorPath, `${JSON.stringify(descriptor, null, 2)}\n`);
  return { name: recipe.name, cleanAccuracy, trainSeconds: result.seconds, descriptorPath };
}
