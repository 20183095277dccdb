import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { Random } from '../common/random.js';
import { Registry } from '../common/registry.js';
import { Maxout, Rbf, registerCustomLayers } from './layers/index.js';

/**
 * The digit networks as tfjs models: what the tfjs engine trains (network/to-tfjs.ts) and the
 * tests' independent reference. The networks themselves are ONNX layer lists
 * (network/digits.ts), byte for byte what these convert to (test/compute/network/digits.test.ts),
 * so a change here needs its twin there. Every model outputs logits; weight initialisation is
 * seeded so that a recipe and a seed give the same network.
 */
export interface ArchitectureInput {
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  readonly seed: number;
}

export interface Architecture {
  readonly name: string;
  /** Where it comes from, for `transferbench list` and the README. */
  readonly description: string;
  readonly build: (input: ArchitectureInput) => tf.Sequential;
  /** How a target of this architecture reports its outputs (default logits, read through a softmax). */
  readonly outputKind?: 'logits' | 'log-probabilities';
}

type Init = () => { kernelInitializer: ReturnType<typeof tf.initializers.glorotUniform> };
type LayerFactory = (init: Init) => tf.layers.Layer[];

function sequential(input: ArchitectureInput, layers: LayerFactory): tf.Sequential {
  registerCustomLayers();
  const random = new Random(input.seed).fork('init');
  const init = () => ({ kernelInitializer: tf.initializers.glorotUniform({ seed: random.seedForLibrary() }) });
  const model = tf.sequential();
  model.add(tf.layers.inputLayer({ inputShape: [...input.imageShape] }));
  for (const layer of layers(init)) model.add(layer);
  return model;
}

const conv = (
  filters: number,
  kernelSize: number,
  init: Init,
  extra: Partial<{ strides: number; padding: 'valid' | 'same' }> = {},
) => tf.layers.conv2d({ filters, kernelSize, activation: 'relu', ...extra, ...init() });

const dense = (units: number, init: Init, activation: 'relu' | 'linear' = 'relu') =>
  tf.layers.dense({ units, activation, ...init() });

export const ARCHITECTURES = new Registry<Architecture>('architecture')
  .add('softmax', {
    name: 'softmax',
    description: 'shallow softmax regression (Goodfellow et al. 1412.6572)',
    build: (i) => sequential(i, (init) => [tf.layers.flatten(), dense(i.classes, init, 'linear')]),
  })
  .add('maxout', {
    name: 'maxout',
    description: 'maxout network, 2 x 240 units x 5 pieces (Goodfellow et al. 1412.6572, after Goodfellow et al. 2013)',
    build: (i) => {
      const seeds = new Random(i.seed).fork('maxout');
      return sequential(i, (init) => [
        tf.layers.flatten(),
        new Maxout({ units: 240, pieces: 5, seed: seeds.seedForLibrary() }),
        new Maxout({ units: 240, pieces: 5, seed: seeds.seedForLibrary() }),
        dense(i.classes, init, 'linear'),
      ]);
    },
  })
  .add('rbf', {
    name: 'rbf',
    description: 'shallow RBF network: one Gaussian bump per class (Goodfellow et al. 1412.6572)',
    // No bias, so every score is <= 0 and exp(score), the class's Gaussian bump, is a confidence
    // in (0, 1]: Goodfellow et al.'s p(y = k | x), not normalised across classes. Noise far from
    // every centre gets low confidence in every class, which is why RBF networks resist rubbish inputs.
    build: (i) =>
      sequential(i, () => [
        tf.layers.flatten(),
        new Rbf({ units: i.classes, useBias: false, seed: new Random(i.seed).fork('rbf').seedForLibrary() }),
      ]),
    outputKind: 'log-probabilities',
  })
  .add('mlp', {
    name: 'mlp',
    description: 'MLP 784-256-256-10 with ReLU',
    build: (i) =>
      sequential(i, (init) => [
        tf.layers.flatten(),
        dense(256, init),
        dense(256, init),
        dense(i.classes, init, 'linear'),
      ]),
  })
  .add('cnn-small', {
    name: 'cnn-small',
    description: 'small CNN 32c3-pool-64c3-pool-128-10',
    build: (i) =>
      sequential(i, (init) => [
        conv(32, 3, init),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        conv(64, 3, init),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        dense(128, init),
        dense(i.classes, init, 'linear'),
      ]),
  })
  .add('model-a', {
    name: 'model-a',
    description: 'MNIST model A of Tramer et al., used in AdvGAN (1801.02610): 64c5-64c5-dropout-128-10',
    build: (i) =>
      sequential(i, (init) => [
        conv(64, 5, init),
        conv(64, 5, init),
        tf.layers.dropout({ rate: 0.25 }),
        tf.layers.flatten(),
        dense(128, init),
        tf.layers.dropout({ rate: 0.5 }),
        dense(i.classes, init, 'linear'),
      ]),
  })
  .add('model-b', {
    name: 'model-b',
    description: 'MNIST model B of Tramer et al. (AdvGAN): dropout-64c8s2-128c6s2-128c5-dropout-10',
    build: (i) =>
      sequential(i, (init) => [
        tf.layers.dropout({ rate: 0.2 }),
        conv(64, 8, init, { strides: 2, padding: 'same' }),
        conv(128, 6, init, { strides: 2, padding: 'valid' }),
        conv(128, 5, init),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.flatten(),
        dense(i.classes, init, 'linear'),
      ]),
  })
  .add('model-c', {
    name: 'model-c',
    description: 'MNIST model C of Tramer et al. (AdvGAN): 32c3-32c3-pool-64c3-64c3-pool-200-200-10',
    build: (i) =>
      sequential(i, (init) => [
        conv(32, 3, init),
        conv(32, 3, init),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        conv(64, 3, init),
        conv(64, 3, init),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        dense(200, init),
        dense(200, init),
        dense(i.classes, init, 'linear'),
      ]),
  });

export function buildArchitecture(name: string, input: ArchitectureInput): tf.Sequential {
  const architecture = ARCHITECTURES.get(name);
  const model = architecture.build(input);
  // Saved with the weights, so training, export and a reloaded model all know how to read the outputs.
  if (architecture.outputKind !== undefined) model.setUserDefinedMetadata({ outputKind: architecture.outputKind });
  return model;
}

/**
 * A hash of what an architecture builds (each layer's class and configuration, names aside, as
 * they come from a global counter, and the output kind that decides its training loss): caches
 * of trained models key on it, so changing a network's definition in code never reloads weights
 * trained for the old one.
 */
export function architectureFingerprint(name: string, input: ArchitectureInput): string {
  const model = buildArchitecture(name, input);
  try {
    return modelFingerprint(model);
  } finally {
    model.dispose();
  }
}

/** The hash architectureFingerprint takes, of any built model. */
export function modelFingerprint(model: tf.LayersModel): string {
  const layers = model.layers.map((layer) => {
    const { name: _name, ...config } = layer.getConfig();
    return { className: layer.getClassName(), config };
  });
  return createHash('sha256')
    .update(JSON.stringify({ layers, metadata: model.getUserDefinedMetadata() ?? null }))
    .digest('hex')
    .slice(0, 16);
}
