import { appendEmitted, Emitter } from '../onnx-gradient/emit.js';
import { prune } from '../onnx-gradient/fold.js';
import { DataType, encodeModel, int, valueInfo, type Graph } from '../onnx-gradient/ir.js';
import { probeGraph } from '../onnx-gradient/probe.js';
import { commuteReluMaxPool } from '../onnx-gradient/rewrite.js';
import { trainingGradients, weightGradientName } from './gradients.js';
import { blockedConvolutions, nchwcBlockSize } from './nchwc.js';
import { inGraphStep, type OptimizerSettings } from './optimizer.js';
import type { RunningStatistics } from '../network/normalization.js';
import type { DropoutMask, TrainingForm } from './training-form.js';

/** The losses training minimises (src/compute/train.ts): softmax cross-entropy, or per-class detectors. */
export type TrainingLoss = 'softmax-cross-entropy' | 'detector';

/** Names of the training model's own inputs and outputs (weights are `w<i>`, masks `mask<i>`). */
export const STEP_IO = {
  images: 'images',
  /** float32 [N, classes]: one-hot or soft targets. */
  targets: 'targets',
  /** float32 [N]: each image's weight in the loss; 1 / N for a plain mean. */
  sampleWeights: 'sample_weights',
  /** float32 []: sum over images of sample weight x loss. */
  loss: 'loss',
} as const;

export interface TrainingModel {
  readonly bytes: Uint8Array;
  readonly weights: TrainingForm['weights'];
  readonly masks: readonly DropoutMask[];
  /** BatchNormalization's running statistics: the batch's mean and variance are outputs too. */
  readonly statistics: readonly RunningStatistics[];
  /** Whether the optimiser step is in the graph (inputs and outputs of optimizer.ts's inGraphStep). */
  readonly optimizerInGraph: boolean;
}

/**
 * The ONNX model of one training step of a network in its training form: images, targets, sample
 * weights, dropout masks and the current weights in; the weighted loss and d(loss)/d(weight) for
 * every weight out (weightGradientName), or, with `optimizer`, the updated weights and moments.
 */
export async function buildTrainingModel(
  built: TrainingForm,
  options: { loss: TrainingLoss; classes: number; optimizer?: OptimizerSettings },
): Promise<TrainingModel> {
  if (built.input !== STEP_IO.images)
    throw new Error(`buildTrainingModel: the training form reads ${built.input}, not ${STEP_IO.images}`);
  // Relu after MaxPool rather than before: its mask and gradient at the pooled resolution.
  const forward = { ...built, graph: commuteReluMaxPool(built.graph, { indicesRouteGradientOnly: true }) };
  const emit = new Emitter('train/loss', forward.graph.opset);
  lossHead(emit, options.loss, built.output);
  const head = emit.done();
  const graph: Graph = {
    ...appendEmitted(forward.graph, head),
    inputs: [
      ...forward.graph.inputs,
      valueInfo(STEP_IO.targets, DataType.FLOAT, ['batch', options.classes]),
      valueInfo(STEP_IO.sampleWeights, DataType.FLOAT, ['batch']),
    ],
    outputs: [{ name: STEP_IO.loss } as Graph['outputs'][number]],
  };
  const imageDims = [...built.imageShape];
  const facts = await probeGraph(graph, [
    { name: STEP_IO.images, type: 'float32', dims: imageDims },
    ...forward.masks.map((m) => ({ name: m.name, type: 'float32' as const, dims: m.shape })),
    { name: STEP_IO.targets, type: 'float32', dims: [options.classes] },
    { name: STEP_IO.sampleWeights, type: 'float32', dims: [] },
  ]);
  const names = forward.weights.map((w) => w.name);
  const withGradients = trainingGradients(graph, facts, STEP_IO.loss, names);
  let result = blockedConvolutions(withGradients.graph, facts, await nchwcBlockSize());
  let outputs = [
    valueInfo(STEP_IO.loss, DataType.FLOAT, []),
    ...forward.weights.map((w) => valueInfo(weightGradientName(w.name), DataType.FLOAT, w.shape)),
  ];
  if (options.optimizer) {
    const step = inGraphStep(result, forward.weights, options.optimizer);
    result = step.graph;
    outputs = [outputs[0] as (typeof outputs)[number], ...step.outputs];
  }
  outputs.push(
    ...forward.statistics.flatMap((s) =>
      [s.mean, s.variance].map((m) => valueInfo(m.output, DataType.FLOAT, [built.initial.get(m.name)?.length ?? 0])),
    ),
  );
  const pruned = prune(
    { ...result, outputs },
    outputs.map((o) => o.name),
  );
  return {
    bytes: encodeModel(pruned, 'transferbench training step'),
    weights: forward.weights,
    masks: forward.masks,
    statistics: forward.statistics,
    optimizerInGraph: options.optimizer !== undefined,
  };
}

/**
 * logits -> the weighted loss, as src/compute/train.ts computes it: softmax cross-entropy
 * -sum_k t_k log softmax(z)_k, or for log-probability outputs the per-class detector loss
 * -sum_k [t_k z_k + (1 - t_k) log max(1e-6, 1 - exp z_k)]; then sum_i w_i loss_i.
 */
function lossHead(emit: Emitter, loss: TrainingLoss, z: string): void {
  const t = STEP_IO.targets;
  let perClass: string;
  if (loss === 'softmax-cross-entropy') {
    perClass = emit.node('Mul', [t, emit.node('LogSoftmax', [z], { axis: int(1) })]);
  } else {
    const one = emit.floats([], [1]);
    const rest = emit.node('Log', [
      emit.node('Max', [emit.floats([], [1e-6]), emit.node('Sub', [one, emit.node('Exp', [z])])]),
    ]);
    perClass = emit.node('Add', [emit.node('Mul', [t, z]), emit.node('Mul', [emit.node('Sub', [one, t]), rest])]);
  }
  const perImage = emit.node('Neg', [emit.reduceSum(perClass, [1], false)]);
  emit.reduceSum(emit.node('Mul', [perImage, STEP_IO.sampleWeights]), [0], false, STEP_IO.loss);
}
