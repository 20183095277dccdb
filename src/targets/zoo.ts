import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JSONSchemaType } from 'ajv';
import { ARCHITECTURES, buildArchitecture } from '../compute/architectures.js';
import { atomicWrite } from '../common/files.js';
import { saveTfjs } from '../compute/persist.js';
import { trainModel } from '../compute/engine.js';
import { accuracy, argmaxRows, outputKindOf, predictLogits } from '../compute/train.js';
import { TransferbenchError } from '../common/errors.js';
import { readJsonFile, validateWith } from '../common/validate.js';
import type { Split } from '../data/index.js';
import { adversarialTransform, type AdversarialTraining } from './adversarial-training.js';
import { DEFENCE_SCHEMA, sha256File, type TargetDescriptor } from './descriptor.js';
import { exportToOnnx, INPUT_NAME, OUTPUT_NAME } from './onnx/export.js';
import { checkParity } from './onnx/parity.js';

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
    architecture: { type: 'string', enum: ARCHITECTURES.names() },
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
  readonly parityMaxDifference: number;
  readonly trainSeconds: number;
  readonly descriptorPath: string;
}

/**
 * Trains one recipe, exports it to ONNX (refused unless onnxruntime agrees with tfjs within
 * 1e-4), and writes `<out>/<name>/model.onnx`, `target.json` and the tfjs weights that the
 * white-box reference substitute loads.
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
  const model = buildArchitecture(recipe.architecture, {
    imageShape,
    classes: train.classNames.length,
    seed: recipe.seed,
  });
  try {
    const result = await trainModel(
      model,
      {
        images: train.images.subarray(0, count * size),
        imageShape,
        targets: train.labels.subarray(0, count),
        classes: train.classNames.length,
      },
      {
        epochs: recipe.epochs,
        batchSize: recipe.batchSize,
        learningRate: recipe.learningRate,
        seed: recipe.seed,
        ...(recipe.adversarialTraining
          ? { transform: adversarialTransform(model, recipe.adversarialTraining, recipe.seed) }
          : {}),
      },
    );
    const cleanAccuracy = accuracy(
      argmaxRows(predictLogits(model, test.images, imageShape), train.classNames.length),
      test.labels,
    );
    const onnxBytes = exportToOnnx(model, `transferbench zoo target ${recipe.name}`);
    const parity = await checkParity(model, onnxBytes, imageShape, {
      count: 256,
      images: test.images,
      name: recipe.name,
      seed: recipe.seed,
    });
    const dir = join(outDir, recipe.name);
    mkdirSync(join(dir, 'tfjs'), { recursive: true });
    atomicWrite(join(dir, 'model.onnx'), onnxBytes);
    await saveTfjs(model, join(dir, 'tfjs'));
    const descriptor: TargetDescriptor = {
      name: recipe.name,
      model: 'model.onnx',
      sha256: sha256File(join(dir, 'model.onnx')),
      inputName: INPUT_NAME,
      outputName: OUTPUT_NAME,
      layout: 'NHWC',
      inputShape: [...imageShape],
      inputRange: [0, 1],
      normalization: { mean: [0], std: [1] },
      outputKind: outputKindOf(model),
      classNames: [...train.classNames],
      dataset: datasetName,
      cleanAccuracy,
      recipe: { ...recipe },
      // The clean accuracy above is the bare model's; the defence acts only when the oracle answers.
      ...(recipe.defence ? { defence: recipe.defence } : {}),
    };
    const descriptorPath = join(dir, 'target.json');
    atomicWrite(descriptorPath, `${JSON.stringify(descriptor, null, 2)}\n`);
    return {
      name: recipe.name,
      cleanAccuracy,
      parityMaxDifference: parity.maxAbsoluteDifference,
      trainSeconds: result.seconds,
      descriptorPath,
    };
  } finally {
    model.dispose();
  }
}
