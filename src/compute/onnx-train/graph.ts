import type * as tf from '@tensorflow/tfjs';
import { TransferbenchError } from '../../common/errors.js';
import { Emitter } from '../onnx-gradient/emit.js';
import { DataType, floatTensor, int, ints, valueInfo, type Graph, type TensorProto } from '../onnx-gradient/ir.js';
import { OPSET, pads, pair, poolingOf } from '../../targets/onnx/export.js';

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
}

export const TRAINING_IO = { images: 'images', logits: 'train/logits' } as const;

const SUPPORTED = 'Conv2D, MaxPooling2D, AveragePooling2D, Flatten, Dense, Dropout, Maxout, Rbf, Activation';

/**
 * The forward pass of a tfjs Sequential classifier as an ONNX graph whose values are the tfjs
 * variables themselves, in tfjs's layouts (a Conv2D kernel stays HWIO and is transposed in the
 * graph; an RBF layer keeps its centres and log-precisions rather than the folded matrices the
 * inference export writes), so d(loss)/d(value) is d(loss)/d(variable) and the trained values go
 * back into the tfjs model unchanged. The layer mapping follows exportToOnnx (NHWC in, NCHW
 * around convolutions, NHWC again before Flatten).
 */
export function trainingGraph(model: tf.Sequential): TrainingGraph {
  const emit = new Emitter('train', OPSET);
  const initializers: TensorProto[] = [];
  const weights: TrainableWeight[] = [];
  const masks: DropoutMask[] = [];
  let current: string = TRAINING_IO.images;
  let layout = 'NHWC' as 'NHWC' | 'NCHW';
  const toLayout = (wanted: 'NHWC' | 'NCHW') => {
    if (layout === wanted) return;
    current = emit.node('Transpose', [current], { perm: ints(wanted === 'NCHW' ? [0, 3, 1, 2] : [0, 2, 3, 1]) });
    layout = wanted;
  };
  const weight = (layer: tf.layers.Layer, index: number): string => {
    const variable = layer.weights[index];
    if (variable === undefined) throw unsupported(layer, `has no weight ${index}`);
    if (!variable.trainable) throw unsupported(layer, `has a non-trainable weight ${variable.name}`);
    const name = `w${weights.length}`;
    const values = variable.read().dataSync() as Float32Array;
    weights.push({ name, variable, shape: [...variable.shape] as number[] });
    initializers.push(floatTensor(name, variable.shape as number[], values));
    return name;
  };
  const activation = (layer: tf.layers.Layer, name: unknown) => {
    if (name === undefined || name === null || name === 'linear') return;
    const op = ({ relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', softmax: 'Softmax' } as Record<string, string>)[String(name)];
    if (op === undefined) throw unsupported(layer, `has activation ${String(name)}; supported: relu, softmax, sigmoid, tanh, linear`);
    current = emit.node(op, [current], op === 'Softmax' ? { axis: int(-1) } : {});
  };

  for (const layer of model.layers) {
    const config = layer.getConfig();
    const inputShape = (layer.input as tf.SymbolicTensor).shape as number[];
    switch (layer.getClassName()) {
      case 'InputLayer':
        break;
      case 'Dropout': {
        const name = `mask${masks.length}`;
        masks.push({ name, shape: inputShape.slice(1), rate: config['rate'] as number });
        const mask = layout === 'NCHW' ? emit.node('Transpose', [name], { perm: ints([0, 3, 1, 2]) }) : name;
        current = emit.node('Mul', [current, mask]);
        break;
      }
      case 'Conv2D': {
        if (config['dataFormat'] === 'channelsFirst') throw unsupported(layer, 'uses channelsFirst; expected channelsLast');
        const dilation = pair(config['dilationRate']);
        if (dilation[0] !== 1 || dilation[1] !== 1) throw unsupported(layer, 'is dilated; not supported');
        toLayout('NCHW');
        const kernel = layer.weights[0]?.shape as number[];
        const kernelSize: [number, number] = [kernel[0] as number, kernel[1] as number];
        const strides = pair(config['strides']);
        const oihw = emit.node('Transpose', [weight(layer, 0)], { perm: ints([3, 2, 0, 1]) });
        const inputs = [current, oihw];
        if (config['useBias'] !== false) inputs.push(weight(layer, 1));
        current = emit.node('Conv', inputs, { kernel_shape: ints(kernelSize), strides: ints(strides), pads: ints(pads(config, inputShape, kernelSize, strides)), dilations: ints([1, 1]) });
        activation(layer, config['activation']);
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
        if (config['useBias'] !== false) inputs.push(weight(layer, 1));
        current = emit.node('Gemm', inputs);
        activation(layer, config['activation']);
        break;
      }
      case 'Maxout': {
        // Gemm to units * pieces (unit-major columns), then the max over each unit's pieces.
        const affine = emit.node('Gemm', [current, weight(layer, 0), weight(layer, 1)]);
        current = emit.reduce('ReduceMax', emit.reshape(affine, [-1, config['units'] as number, config['pieces'] as number]), [2], false);
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
        if (config['useBias'] !== false) offset = emit.node('Add', [offset, weight(layer, 2)]);
        current = emit.node('Add', [emit.node('Sub', [linear, quadratic]), offset]);
        break;
      }
      case 'Activation':
        activation(layer, config['activation']);
        break;
      default:
        throw unsupported(layer, `is not supported; supported: ${SUPPORTED}`);
    }
  }
  emit.node('Identity', [current], {}, TRAINING_IO.logits);
  const { nodes, initializers: constants } = emit.done();
  const images = (model.inputs[0]?.shape ?? []).slice(1) as number[];
  const graph: Graph = {
    nodes,
    initializers: new Map([...initializers, ...constants].map((t) => [t.name, t] as const)),
    inputs: [valueInfo(TRAINING_IO.images, DataType.FLOAT, ['batch', ...images]), ...masks.map((m) => valueInfo(m.name, DataType.FLOAT, ['batch', ...m.shape]))],
    outputs: [],
    opset: OPSET,
    otherOpsets: [],
  };
  return { graph, weights, masks };
}

function unsupported(layer: tf.layers.Layer, why: string): TransferbenchError {
  return new TransferbenchError('BAD_OPTION', `ONNX training engine: layer ${layer.name} (${layer.getClassName()}) ${why}`);
}
