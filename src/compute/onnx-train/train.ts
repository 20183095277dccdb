import * as tf from '@tensorflow/tfjs';
import { badOption, TransferbenchError } from '../../common/errors.js';
import { runEpochs } from '../epochs.js';
import { Random } from '../../common/random.js';
import {
  batchArrays,
  type BatchRows,
  countOfSet,
  outputKindOf,
  type TrainingSet,
  type TrainOptions,
  type TrainResult,
} from '../train.js';
import { withInitializers, type OnnxNetwork } from '../network/network.js';
import { TRAINING_IO, trainingGraph, writeVariables } from './graph.js';
import { buildTrainingModel, type TrainingLoss } from './model.js';
import { trainingForm, type DropoutMask, type TrainingForm } from './training-form.js';
import { optimizerSettings } from './optimizer.js';
import { ReplicaTrainer } from './replicas.js';
import { OnnxTrainer, type StepBatch } from './trainer.js';

export interface OnnxEngineSettings {
  /**
   * onnxruntime threads: one-thread replicas where the model allows (splitsIntoReplicas), else one session's intra-op
   * threads.
   */
  readonly threads: number;
  /** The optimiser step as graph nodes rather than on typed arrays (see the README's measurements). */
  readonly optimizerInGraph: boolean;
}

/**
 * trainClassifier on onnxruntime: the same minibatches in the same order (the shuffle draws from
 * the same seeded stream), Adam with tf.train.adam's settings, dropout masks from their own
 * seeded stream, and the trained weights written back into `model` at the end (the engine
 * tests' reference; the harness trains ONNX networks, trainNetworkOnOnnxruntime).
 */
export async function trainOnOnnxruntime(
  model: tf.LayersModel,
  set: TrainingSet,
  options: TrainOptions,
  engine: OnnxEngineSettings,
): Promise<TrainResult> {
  if (!(model instanceof tf.Sequential))
    throw new TransferbenchError(
      'BAD_OPTION',
      `--engine onnxruntime trains Sequential models only; ${model.name} ` +
        `is a ${model.getClassName()} (use --engine tfjs)`,
    );
  if (options.transform)
    throw new TransferbenchError('BAD_OPTION', 'adversarial training trains an ONNX network (trainNetwork)');
  const form = await trainingGraph(model);
  const loss = outputKindOf(model) === 'log-probabilities' ? 'detector' : 'softmax-cross-entropy';
  return trainForm(form, loss, set, options, engine, (values) => writeVariables(form.variables, values));
}

/**
 * An ONNX network trained on onnxruntime as trainOnOnnxruntime trains a tfjs model (the same
 * batches, optimiser and masks); returns the network with its trained weights and running
 * statistics, and with `snapshotsPerEpoch` the networks collected along the way (in order). A
 * batch transform (adversarial training) sees the network as trained up to its step, and its
 * weighted parts become per-image loss weights.
 */
export async function trainNetworkOnOnnxruntime(
  network: OnnxNetwork,
  set: TrainingSet,
  options: TrainOptions,
  engine: OnnxEngineSettings,
): Promise<{ network: OnnxNetwork; result: TrainResult; snapshots: OnnxNetwork[] }> {
  const form = await trainingForm(network, TRAINING_IO.images, TRAINING_IO.logits);
  let trained = network;
  const snapshots: OnnxNetwork[] = [];
  const loss = network.outputKind === 'log-probabilities' ? 'detector' : 'softmax-cross-entropy';
  const result = await trainForm(
    form,
    loss,
    set,
    options,
    engine,
    (values) => {
      trained = withInitializers(network, values);
    },
    (values) => snapshots.push(withInitializers(network, values)),
    (values) => withInitializers(network, values),
  );
  return { network: trained, result, snapshots };
}

/**
 * The minibatches of an epoch after which a snapshot is taken: `perEpoch` of them, evenly spaced,
 * the last one closing the epoch (LGV collects 4 per epoch, each after a quarter of it).
 */
export function snapshotSteps(count: number, batchSize: number, perEpoch: number): Set<number> {
  const steps = Math.ceil(count / batchSize);
  if (!Number.isInteger(perEpoch) || perEpoch < 1 || perEpoch > steps)
    throw badOption('snapshotsPerEpoch', perEpoch, `an integer from 1 to the ${steps} minibatches of an epoch`);
  return new Set(Array.from({ length: perEpoch }, (_, j) => Math.round(((j + 1) * steps) / perEpoch) - 1));
}

/**
 * Builds the network's training step once, so that a graph the trainer cannot differentiate is
 * refused (naming the operator and the node) before a strategy spends any query on it.
 */
export async function checkTrainable(network: OnnxNetwork): Promise<void> {
  const form = await trainingForm(network, TRAINING_IO.images, TRAINING_IO.logits);
  await buildTrainingModel(form, {
    loss: network.outputKind === 'log-probabilities' ? 'detector' : 'softmax-cross-entropy',
    classes: network.classes,
  });
}

/** The training loop over a network's training form; `sync` receives the current values whenever they are needed. */
async function trainForm(
  form: TrainingForm,
  loss: TrainingLoss,
  set: TrainingSet,
  options: TrainOptions,
  engine: OnnxEngineSettings,
  sync: (values: ReadonlyMap<string, Float32Array>) => void,
  snapshot?: (values: ReadonlyMap<string, Float32Array>) => void,
  networkOf?: (values: ReadonlyMap<string, Float32Array>) => OnnxNetwork,
): Promise<TrainResult> {
  const dropout = new Random(options.seed).fork('dropout');
  const count = countOfSet(set);
  const perEpoch = Math.ceil(count / options.batchSize);
  const takeAfter =
    options.snapshotsPerEpoch === undefined
      ? new Set<number>()
      : snapshotSteps(count, options.batchSize, options.snapshotsPerEpoch);
  const trainerOptions = {
    loss,
    classes: set.classes,
    optimizer: options.sgd
      ? optimizerSettings('sgd-momentum', options.learningRate, options.sgd.momentum, options.sgd.weightDecay)
      : optimizerSettings('adam', options.learningRate),
    threads: engine.threads,
    optimizerInGraph: engine.optimizerInGraph,
  };
  const trainer = splitsIntoReplicas(form, engine)
    ? await ReplicaTrainer.create(form, trainerOptions)
    : await OnnxTrainer.create(form, trainerOptions);
  try {
    const result = await runEpochs(count, options, async (indices, step) => {
      const { pixels, targets } = batchArrays(set, indices);
      let batch: Omit<StepBatch, 'masks'>;
      if (options.transform) {
        if (networkOf === undefined) throw new Error('trainForm: a batch transform needs the network');
        const parts = await options.transform(
          { count: indices.length, images: pixels, targets },
          step,
          networkOf(trainer.values()),
        );
        batch = concatenated(parts, pixels.length / indices.length, set.classes);
      } else {
        batch = {
          count: indices.length,
          images: pixels,
          targets,
          sampleWeights: new Float32Array(indices.length).fill(1 / indices.length),
        };
      }
      const loss = await trainer.step({
        ...batch,
        masks: trainer.masks.map((m) => dropoutMask(m, batch.count, dropout)),
      });
      if (snapshot && takeAfter.has(step % perEpoch)) snapshot(trainer.values());
      return loss;
    });
    sync(trainer.values());
    return result;
  } finally {
    await trainer.dispose();
  }
}

/**
 * More than one thread trains a convolutional network as that many one-thread replicas, each a
 * share of the batch's rows (replicas.ts; 1.55-1.61x one thread, where one session on two
 * threads gave 1.09-1.29x: README, "Training engine"), except where the step needs the whole
 * batch at once: BatchNormalization's batch statistics, or the optimiser in the graph. A network
 * of Dense layers only keeps one session: its step is a few milliseconds of arithmetic over up to
 * a million weights, which the replicas' weight copies, the sum and Adam on the main thread
 * outweigh (the maxout zoo target trained slower on replicas than on one thread).
 */
export function splitsIntoReplicas(form: TrainingForm, engine: OnnxEngineSettings): boolean {
  const kinds = form.graph.nodes.map((node) => node.opType);
  return (
    engine.threads > 1 &&
    !engine.optimizerInGraph &&
    kinds.some((kind) => kind.includes('Conv')) &&
    form.statistics.length === 0
  );
}

/** Inverted dropout, as tfjs draws it: keep where u >= rate, scaled by 1 / (1 - rate). */
export function dropoutMask(mask: DropoutMask, count: number, random: Random): Float32Array {
  const size = count * mask.shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(size);
  const kept = 1 / (1 - mask.rate);
  for (let i = 0; i < size; i++) values[i] = random.next() >= mask.rate ? kept : 0;
  return values;
}

/** The batch a transform made of the clean one: its parts concatenated, each row weighted weight / rows. */
function concatenated(
  parts: readonly (BatchRows & { readonly weight: number })[],
  size: number,
  classes: number,
): Omit<StepBatch, 'masks'> {
  const total = parts.reduce((s, p) => s + p.count, 0);
  const made = {
    count: total,
    images: new Float32Array(total * size),
    targets: new Float32Array(total * classes),
    sampleWeights: new Float32Array(total),
  };
  let row = 0;
  for (const p of parts) {
    made.images.set(p.images, row * size);
    made.targets.set(p.targets, row * classes);
    made.sampleWeights.fill(p.weight / p.count, row, row + p.count);
    row += p.count;
  }
  return made;
}
