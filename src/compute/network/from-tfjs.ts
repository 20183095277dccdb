import type * as tf from '@tensorflow/tfjs';
import { TransferbenchError } from '../../common/errors.js';
import { INSTANCE_NORM_EPSILON } from '../layers/instance-norm.js';
import { OPSET, pads, pair, poolingOf } from '../layers/tfjs-config.js';
import { Emitter } from '../onnx-gradient/emit.js';
import { float, floatTensor, int, ints, type Graph, type TensorProto } from '../onnx-gradient/ir.js';
import { dropoutNode } from './layers/dropout.js';
import { hwioConvNodes } from './layers/keras-conv.js';
import { maxoutNodes } from './layers/maxout.js';
import { rbfNodes } from './layers/rbf.js';
import { NETWORK_IO, type NetworkOutputKind, type OnnxNetwork } from './network.js';
import { normalised, scaleAndShift } from './normalization.js';

/**
 * How the graph names its values, so that two networks fit in one graph (AdvGAN's generator
 * step runs the discriminator on the generator's output): weights `<prefix>w<i>`, nodes under `<prefix>net`.
 */
export interface GraphNaming {
  readonly prefix: string;
  readonly input: string;
  readonly output: string;
}

/** A tfjs model as an ONNX network, and which tfjs variable each initializer came from (to write training back). */
export interface ConvertedModel {
  readonly network: OnnxNetwork;
  readonly variables: ReadonlyMap<string, tf.LayerVariable>;
}

const SUPPORTED =
  'Conv2D, Conv2DTranspose, MaxPooling2D, AveragePooling2D, Flatten, ' +
  'Dense, Dropout, Maxout, Rbf, Activation, LeakyReLU, Add, BatchNormalization, InstanceNorm';

/**
 * A tfjs classifier (Sequential, or functional with one input and output, each layer applied
 * once, walked in the order of model.layers, which is topological) as an ONNX inference graph
 * whose initializers are the tfjs variables themselves, in tfjs's layouts (a Conv2D kernel stays
 * HWIO and is transposed in the graph; an RBF layer keeps its centres and log-precisions), so
 * d(loss)/d(initializer) is d(loss)/d(variable) and trained values go back into tfjs unchanged.
 * NHWC in, NCHW around convolutions, NHWC again before Flatten, Dropout and at the output (a
 * Dropout mask is drawn in tfjs's order). This is the one place a tfjs layer becomes ONNX nodes:
 * export, the training engine and AdvGAN's steps all read it. Conv2D, Dropout, Maxout and Rbf
 * emit through their layer files (layers/), the nodes the digit networks' layer lists emit too.
 */
export function convertTfjs(
  model: tf.LayersModel,
  naming: GraphNaming = { prefix: '', input: NETWORK_IO.images, output: NETWORK_IO.logits },
): ConvertedModel {
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new TransferbenchError(
      'BAD_OPTION',
      `ONNX conversion: model ${model.name} has ${model.inputs.length} ` +
        `inputs and ${model.outputs.length} outputs; one of each is supported`,
    );
  }
  const emit = new Emitter(`${naming.prefix}net`, OPSET);
  const initializers: TensorProto[] = [];
  const variables = new Map<string, tf.LayerVariable>();
  const trainable: string[] = [];
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
  const variable = (layer: tf.layers.Layer, index: number, train = true): string => {
    const v = layer.weights[index];
    if (v === undefined) throw unsupported(layer, `has no weight ${index}`);
    if (train && !v.trainable) throw unsupported(layer, `has a non-trainable weight ${v.name}`);
    const name = `${naming.prefix}w${variables.size}`;
    variables.set(name, v);
    if (train) trainable.push(name);
    initializers.push(floatTensor(name, v.shape as number[], v.read().dataSync() as Float32Array));
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
      case 'Dropout':
        toLayout('NHWC');
        current = dropoutNode(emit, current, config.rate as number);
        break;
      case 'Conv2D': {
        if (config.dataFormat === 'channelsFirst')
          throw unsupported(layer, 'uses channelsFirst; expected channelsLast');
        const dilation = pair(config.dilationRate);
        if (dilation[0] !== 1 || dilation[1] !== 1) throw unsupported(layer, 'is dilated; not supported');
        toLayout('NCHW');
        const kernel = layer.weights[0]?.shape as number[];
        const kernelSize: [number, number] = [kernel[0] as number, kernel[1] as number];
        const strides = pair(config.strides);
        const weights = { kernel: variable(layer, 0), bias: config.useBias !== false ? variable(layer, 1) : undefined };
        current = hwioConvNodes(emit, current, weights, {
          kernel: kernelSize,
          strides,
          pads: pads(config, inputShape, kernelSize, strides),
        });
        activation(layer, config.activation);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        toLayout('NCHW');
        const pool = poolingOf(layer, inputShape);
        current = emit.node(pool.op, [current], {
          kernel_shape: ints(pool.kernel),
          strides: ints(pool.strides),
          pads: ints(pool.pads),
        });
        break;
      }
      case 'Flatten':
        toLayout('NHWC');
        current = emit.node('Flatten', [current], { axis: int(1) });
        break;
      case 'Dense': {
        if (inputShape.length !== 2) throw unsupported(layer, 'must follow a Flatten (2-D input)');
        const operands = [current, variable(layer, 0)];
        if (config.useBias !== false) operands.push(variable(layer, 1));
        current = emit.node('Gemm', operands);
        activation(layer, config.activation);
        break;
      }
      case 'Maxout': {
        const weights = { kernel: variable(layer, 0), bias: variable(layer, 1) };
        current = maxoutNodes(emit, current, weights, {
          units: config.units as number,
          pieces: config.pieces as number,
        });
        break;
      }
      case 'Rbf': {
        const [centres, logPrecision] = [variable(layer, 0), variable(layer, 1)];
        const bias = config.useBias !== false ? variable(layer, 2) : undefined;
        current = rbfNodes(emit, current, { centres, logPrecision, bias });
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
        const w = emit.node('Transpose', [variable(layer, 0)], { perm: ints([3, 2, 0, 1]) });
        const operands = [current, w];
        if (config.useBias !== false) operands.push(variable(layer, 1));
        current = emit.node('ConvTranspose', operands, transposedWindow(layer, config, inputShape));
        activation(layer, config.activation);
        break;
      }
      case 'BatchNormalization': {
        // ONNX's BatchNormalization normalises axis 1; trainingForm rewrites it to batch statistics.
        if (config.center === false || config.scale === false)
          throw unsupported(layer, 'has center or scale off; training mode needs both (as tfjs does)');
        const axis = config.axis as number;
        if (axis !== -1 && axis !== inputShape.length - 1)
          throw unsupported(layer, `normalises axis ${axis}; only the last (channels) axis is supported`);
        if (inputShape.length === 4) toLayout('NCHW');
        else if (inputShape.length !== 2) throw unsupported(layer, `has a rank-${inputShape.length} input; 2 or 4`);
        const operands = [variable(layer, 0), variable(layer, 1), variable(layer, 2, false), variable(layer, 3, false)];
        current = emit.node('BatchNormalization', [current, ...operands], {
          epsilon: float(config.epsilon as number),
          momentum: float(config.momentum as number),
        });
        break;
      }
      case 'InstanceNorm': {
        // Each image's channels over its own height and width (src/compute/layers/instance-norm.ts),
        // as graph arithmetic, the same in training and inference.
        const spatial = layout === 'NCHW' ? [2, 3] : [1, 2];
        const [gamma, beta] = [variable(layer, 0), variable(layer, 1)];
        const value = normalised(emit, current, spatial, INSTANCE_NORM_EPSILON).value;
        current = scaleAndShift(emit, value, layout, gamma, beta);
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
  const graph: Graph = {
    nodes,
    initializers: new Map([...initializers, ...constants].map((t) => [t.name, t] as const)),
    inputs: [],
    outputs: [],
    opset: OPSET,
    otherOpsets: [],
  };
  const imageShape = (model.inputs[0]?.shape ?? []).slice(1) as number[];
  const outputShape = (model.outputs[0]?.shape ?? []).slice(1) as number[];
  const metadata = model.getUserDefinedMetadata() as { outputKind?: NetworkOutputKind } | undefined;
  return {
    network: {
      architecture: model.name,
      graph,
      imageShape: imageShape as unknown as readonly [number, number, number],
      classes: outputShape.reduce((a, b) => a * b, 1),
      outputKind: metadata?.outputKind ?? 'logits',
      trainable,
    },
    variables,
  };
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
  return new TransferbenchError('BAD_OPTION', `ONNX conversion: layer ${layer.name} (${layer.getClassName()}) ${why}`);
}
