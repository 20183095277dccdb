import type * as tf from '@tensorflow/tfjs';
import { TransferbenchError } from '../../common/errors.js';
import { Emitter } from '../onnx-gradient/emit.js';
import {
  DataType,
  float,
  floatTensor,
  int,
  ints,
  valueInfo,
  type Graph,
  type TensorProto,
} from '../onnx-gradient/ir.js';
import { OPSET, pads, pair, poolingOf } from '../layers/tfjs-config.js';
import { INSTANCE_NORM_EPSILON } from '../layers/instance-norm.js';
import { nonChannelAxes, normalised, scaleAndShift, type RunningStatistics } from './normalization.js';

/** A tfjs variable that the training graph reads as an ONNX value of the same shape and layout. */
export interface TrainableWeight {
  readonly name: string;
  readonly variable: tf.LayerVariable;
  readonly shape: readonly number[];
}

/**
 * A Dropout layer in training mode: the graph multiplies by the input `name`, which the engine
 * fills each step from its seeded generator with 0 or 1 / (1 - rate) (tfjs's inverted dropout),
 * so a run is repeatable and the mask is known. `shape` is one image's, in tfjs's NHWC layout.
 */
export interface DropoutMask {
  readonly name: string;
  readonly shape: readonly number[];
  readonly rate: number;
}

export interface TrainingGraph {
  /** Forward graph from `images` to `logits`, weights still initializers (for the shape probe). */
  readonly graph: Graph;
  readonly weights: readonly TrainableWeight[];
  readonly masks: readonly DropoutMask[];
  /** BatchNormalization layers' running statistics, updated by the engine after each step. */
  readonly statistics: readonly RunningStatistics[];
}

/**
 * How the graph names its values, so that two networks fit in one graph (AdvGAN's generator
 * step runs the discriminator on the generator's output): weights `<prefix>w<i>`, masks
 * `<prefix>mask<i>`, nodes under `<prefix>train`.
 */
export interface GraphNaming {
  readonly prefix: string;
  readonly input: string;
  readonly output: string;
}

export const TRAINING_IO = { images: 'images', logits: 'train/logits' } as const;

const SUPPORTED =
  'Conv2D, Conv2DTranspose, MaxPooling2D, AveragePooling2D, Flatten, ' +
  'Dense, Dropout, Maxout, Rbf, Activation, LeakyReLU, Add, BatchNormalization, ' +
  'InstanceNorm';

/**
 * The forward pass of a tfjs Sequential classifier as an ONNX graph whose values are the tfjs
 * variables themselves, in tfjs's layouts (a Conv2D kernel stays HWIO and is transposed in the
 * graph; an RBF layer keeps its centres and log-precisions rather than the folded matrices the
 * inference export writes), so d(loss)/d(value) is d(loss)/d(variable) and the trained values go
 * back into the tfjs model unchanged. The layer mapping follows exportToOnnx (NHWC in, NCHW
 * around convolutions, NHWC again before Flatten and at the output). Functional models (a
 * single input and output, each layer applied once: AdvGAN's generator with its residual Adds)
 * are walked in the order of model.layers, which is topological.
 */
export function trainingGraph(
  model: tf.LayersModel,
  naming: GraphNaming = { prefix: '', input: TRAINING_IO.images, output: TRAINING_IO.logits },
): TrainingGraph {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new TransferbenchError(
      'BAD_OPTION',
      `ONNX training engine: model ${model.name} has ${model.inputs.length} ` +
        `inputs and ${model.outputs.length} outputs; one of each is supported`,
    );
  }
  const emit = new Emitter(`${naming.prefix}train`, OPSET);
  const initializers: TensorProto[] = [];
  const weights: TrainableWeight[] = [];
  const masks: DropoutMask[] = [];
  const statistics: RunningStatistics[] = [];
  // Each symbolic tensor's value in the graph and its layout (functional models read any earlier one).
  const values = new Map<number, { name: string; layout: 'NHWC' | 'NCHW' }>();
  let current: string = naming.input;
  let layout = 'NHWC' as 'NHWC' | 'NCHW';
  const inLayout = (value: { name: string; layout: 'NHWC' | 'NCHW' }, wanted: 'NHWC' | 'NCHW') =>
    value.layout === wanted
      ? value.name
      : emit.node('Transpose', [value.name], { perm: ints(wanted === 'NCHW' ? [0, 3, 1, 2] : [0, 2, 3, 1]) });
  const toLayout = (wanted: 'NHWC' | 'NCHW') => {
    current = inLayout({ name: current, layout }, wanted);
    layout = wanted;
  };
  const weight = (layer: tf.layers.Layer, index: number): string => {
    const variable = layer.weights[index];
    if (variable === undefined) throw unsupported(layer, `has no weight ${index}`);
    if (!variable.trainable) throw unsupported(layer, `has a non-trainable weight ${variable.name}`);
    const name = `${naming.prefix}w${weights.length}`;
    const values = variable.read().dataSync() as Float32Array;
    weights.push({ name, variable, shape: [...variable.shape] as number[] });
    initializers.push(floatTensor(name, variable.shape as number[], values));
    return name;
  };
  const activation = (layer: tf.layers.Layer, name: unknown) => {
    if (name === undefined || name === null || name === 'linear') return;
    const op = ({ relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', softmax: 'Softmax' } as Record<string, string>)[
      String(name)
    ];
    if (op === undefined)
      throw unsupported(layer, `has activation ${String(name)}; supported: relu, softmax, sigmoid, tanh, linear`);
    current = emit.node(op, [current], op === 'Softmax' ? { axis: int(-1) } : {});
  };

  for (const layer of model.layers) {
    if (layer.inboundNodes.length > 1)
      throw unsupported(layer, 'is applied more than once; shared layers are not supported');
    const config = layer.getConfig();
    const inputs = [layer.input].flat() as tf.SymbolicTensor[];
    const inputShape = (inputs[0] as tf.SymbolicTensor).shape as number[];
    const known = values.get((inputs[0] as tf.SymbolicTensor).id);
    if (known) ({ name: current, layout } = known);
    switch (layer.getClassName()) {
      case 'InputLayer':
        break;
      case 'Dropout': {
        const name = `${naming.prefix}mask${masks.length}`;
        masks.push({ name, shape: inputShape.slice(1), rate: config.rate as number });
        const mask = layout === 'NCHW' ? emit.node('Transpose', [name], { perm: ints([0, 3, 1, 2]) }) : name;
        current = emit.node('Mul', [current, mask]);
        break;
      }
      case 'Conv2D': {
        if (config.dataFormat === 'channelsFirst')
          throw unsupported(layer, 'uses channelsFirst; expected channelsLast');
        const dilation = pair(config.dilationRate);
        if (dilation[0] !== 1 || dilation[1] !== 1) throw unsupported(layer, 'is dilated; not supported');
        toLayout('NCHW');
        const kernel = layer.weights[0]?.shape as number[];
        const kernelSize: [number, number] = [kernel[0] as number, kernel[1] as number];
        const strides = pair(config.strides);
        const oihw = emit.node('Transpose', [weight(layer, 0)], { perm: ints([3, 2, 0, 1]) });
        const inputs = [current, oihw];
        if (config.useBias !== false) inputs.push(weight(layer, 1));
        current = emit.node('Conv', inputs, {
          kernel_shape: ints(kernelSize),
          strides: ints(strides),
          pads: ints(pads(config, inputShape, kernelSize, strides)),
          dilations: ints([1, 1]),
        });
        activation(layer, config.activation);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        toLayout('NCHW');
        const pool = poolingOf(layer, inputShape);
        const attributes = { kernel_shape: ints(pool.kernel), strides: ints(pool.strides), pads: ints(pool.pads) };
        if (pool.op === 'MaxPool') {
          // With Indices: the training gradient routes through them (max-pool-first.ts).
          const [pooled, indices] = [emit.fresh('MaxPool'), emit.fresh('MaxPool_indices')];
          emit.multi('MaxPool', [current], [pooled, indices], attributes);
          current = pooled;
        } else {
          current = emit.node(pool.op, [current], attributes);
        }
        break;
      }
      case 'Flatten':
        toLayout('NHWC');
        current = emit.node('Flatten', [current], { axis: int(1) });
        break;
      case 'Dense': {
        if (inputShape.length !== 2) throw unsupported(layer, 'must follow a Flatten (2-D input)');
        const inputs = [current, weight(layer, 0)];
        if (config.useBias !== false) inputs.push(weight(layer, 1));
        current = emit.node('Gemm', inputs);
        activation(layer, config.activation);
        break;
      }
      case 'Maxout': {
        // Gemm to units * pieces (unit-major columns), then the max over each unit's pieces.
        const affine = emit.node('Gemm', [current, weight(layer, 0), weight(layer, 1)]);
        current = emit.reduce(
          'ReduceMax',
          emit.reshape(affine, [-1, config.units as number, config.pieces as number]),
          [2],
          false,
        );
        break;
      }
      case 'Rbf': {
        // -(x^2 @ beta) + x @ (2 beta mu) - colsum(beta mu^2) (+ b), beta = exp(logPrecision).
        const mu = weight(layer, 0);
        const beta = emit.node('Exp', [weight(layer, 1)]);
        const betaMu = emit.node('Mul', [beta, mu]);
        const quadratic = emit.node('MatMul', [emit.node('Mul', [current, current]), beta]);
        const linear = emit.node('MatMul', [current, emit.node('Mul', [betaMu, emit.floats([], [2])])]);
        let offset = emit.node('Neg', [emit.reduceSum(emit.node('Mul', [betaMu, mu]), [0], false)]);
        if (config.useBias !== false) offset = emit.node('Add', [offset, weight(layer, 2)]);
        current = emit.node('Add', [emit.node('Sub', [linear, quadratic]), offset]);
        break;
      }
      case 'Activation':
        activation(layer, config.activation);
        break;
      case 'LeakyReLU':
        current = emit.node('LeakyRelu', [current], { alpha: float(config.alpha as number) });
        break;
      case 'Add': {
        const operands = inputs.map((input) => {
          const value = values.get(input.id);
          if (value === undefined) throw unsupported(layer, `reads ${input.name}, which no earlier layer made`);
          return inLayout(value, layout);
        });
        current = operands.slice(1).reduce((sum, operand) => emit.node('Add', [sum, operand]), operands[0] as string);
        break;
      }
      case 'Conv2DTranspose': {
        if (config.dataFormat === 'channelsFirst')
          throw unsupported(layer, 'uses channelsFirst; expected channelsLast');
        const dilation = pair(config.dilationRate ?? 1);
        if (dilation[0] !== 1 || dilation[1] !== 1) throw unsupported(layer, 'is dilated; not supported');
        toLayout('NCHW');
        // tfjs kernel [kh, kw, out, in]; ONNX ConvTranspose wants [in, out, kh, kw].
        const w = emit.node('Transpose', [weight(layer, 0)], { perm: ints([3, 2, 0, 1]) });
        const operands = [current, w];
        if (config.useBias !== false) operands.push(weight(layer, 1));
        current = emit.node('ConvTranspose', operands, transposedWindow(layer, config, inputShape));
        activation(layer, config.activation);
        break;
      }
      case 'BatchNormalization': {
        // Training mode: normalised by the batch's own statistics, which the graph outputs for
        // the engine's moving-average update (tfjs's normalizeBatchInTraining).
        if (config.center === false || config.scale === false)
          throw unsupported(layer, 'has center or scale off; training mode needs both (as tfjs does)');
        const axis = config.axis as number;
        if (axis !== -1 && axis !== inputShape.length - 1)
          throw unsupported(layer, `normalises axis ${axis}; only the last (channels) axis is supported`);
        const [gamma, beta] = [weight(layer, 0), weight(layer, 1)];
        const batch = normalised(emit, current, nonChannelAxes(layout, inputShape.length), config.epsilon as number);
        const output = (v: string, label: string) =>
          emit.node('Reshape', [v, emit.int64s([-1])], {}, `${naming.prefix}statistics/${layer.name}/${label}`);
        statistics.push({
          mean: { variable: layer.weights[2] as tf.LayerVariable, output: output(batch.mean, 'mean') },
          variance: { variable: layer.weights[3] as tf.LayerVariable, output: output(batch.variance, 'variance') },
          momentum: config.momentum as number,
        });
        current = scaleAndShift(emit, batch.value, layout, gamma, beta);
        break;
      }
      case 'InstanceNorm': {
        // Each image's channels over its own height and width (src/compute/layers/instance-norm.ts).
        const spatial = layout === 'NCHW' ? [2, 3] : [1, 2];
        const [gamma, beta] = [weight(layer, 0), weight(layer, 1)];
        current = scaleAndShift(
          emit,
          normalised(emit, current, spatial, INSTANCE_NORM_EPSILON).value,
          layout,
          gamma,
          beta,
        );
        break;
      }
      default:
        throw unsupported(layer, `is not supported; supported: ${SUPPORTED}`);
    }
    values.set((layer.output as tf.SymbolicTensor).id, { name: current, layout });
  }
  toLayout('NHWC');
  emit.node('Identity', [current], {}, naming.output);
  const { nodes, initializers: constants } = emit.done();
  const images = (model.inputs[0]?.shape ?? []).slice(1) as number[];
  const graph: Graph = {
    nodes,
    initializers: new Map([...initializers, ...constants].map((t) => [t.name, t] as const)),
    inputs: [
      valueInfo(naming.input, DataType.FLOAT, ['batch', ...images]),
      ...masks.map((m) => valueInfo(m.name, DataType.FLOAT, ['batch', ...m.shape])),
    ],
    outputs: [],
    opset: OPSET,
    otherOpsets: [],
  };
  return { graph, weights, masks, statistics };
}

/**
 * ConvTranspose attributes for a tfjs Conv2DTranspose: its output is in x stride ('same') or
 * in x stride + max(kernel - stride, 0) ('valid'), the input of the forward convolution whose
 * gradient it is; the pads are that convolution's, the rest is output_padding.
 */
function transposedWindow(layer: tf.layers.Layer, config: tf.serialization.ConfigDict, inputShape: readonly number[]) {
  const kernel = pair(config.kernelSize);
  const strides = pair(config.strides);
  const same = config.padding === 'same';
  if (!same && config.padding !== 'valid')
    throw unsupported(layer, `has padding ${String(config.padding)}; supported: same, valid`);
  const begin: number[] = [];
  const end: number[] = [];
  const outputPadding: number[] = [];
  for (let axis = 0; axis < 2; axis++) {
    const [size, k, s] = [inputShape[axis + 1] as number, kernel[axis] as number, strides[axis] as number];
    const out = same ? size * s : size * s + Math.max(k - s, 0);
    const total = same ? Math.max((size - 1) * s + k - out, 0) : 0;
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
    outputPadding.push(out - ((size - 1) * s + k - total));
  }
  return {
    kernel_shape: ints(kernel),
    strides: ints(strides),
    pads: ints([...begin, ...end]),
    output_padding: ints(outputPadding),
    dilations: ints([1, 1]),
  };
}

function unsupported(layer: tf.layers.Layer, why: string): TransferbenchError {
  return new TransferbenchError(
    'BAD_OPTION',
    `ONNX training engine: layer ${layer.name} (${layer.getClassName()}) ${why}`,
  );
}
