import type * as tf from '@tensorflow/tfjs';
import { TransferbenchError } from '../../common/errors.js';
import { OPSET, pads, pair, poolingOf } from '../../compute/layers/tfjs-config.js';
import { GraphBuilder } from './graph.js';

export const INPUT_NAME = 'input';
export const OUTPUT_NAME = 'logits';

type Layout = 'NHWC' | 'NCHW';

function unsupported(layer: tf.layers.Layer, why: string): TransferbenchError {
  return new TransferbenchError('BAD_OPTION', `ONNX export: layer ${layer.name} (${layer.getClassName()}) ${why}`);
}

/**
 * Writes a trained tfjs Sequential classifier as ONNX (opset 13, dynamic batch). The model
 * keeps transferbench's NHWC input: it is transposed once to the NCHW that ONNX Conv expects,
 * and back before Flatten so Dense weights keep tfjs's flatten order. Output: logits.
 */
export function exportToOnnx(model: tf.Sequential, docString = ''): Uint8Array {
  const graph = new GraphBuilder();
  const inputShape = model.inputs[0]?.shape.slice(1) as number[];
  let current = INPUT_NAME;
  let layout: Layout = 'NHWC';
  let outputWidth = 0;
  const toLayout = (wanted: Layout) => {
    if (layout === wanted) return;
    current = graph.node('Transpose', [current], { perm: wanted === 'NCHW' ? [0, 3, 1, 2] : [0, 2, 3, 1] });
    layout = wanted;
  };
  const activation = (layer: tf.layers.Layer, name: unknown) => {
    if (name === undefined || name === null || name === 'linear') return;
    if (name === 'relu') current = graph.node('Relu', [current]);
    else if (name === 'softmax') current = graph.node('Softmax', [current], { axis: -1 });
    else if (name === 'sigmoid') current = graph.node('Sigmoid', [current]);
    else if (name === 'tanh') current = graph.node('Tanh', [current]);
    else throw unsupported(layer, `has activation ${String(name)}; supported: relu, softmax, sigmoid, tanh, linear`);
  };

  model.layers.forEach((layer, index) => {
    const config = layer.getConfig();
    const layerInput = (
      layer.getClassName() === 'InputLayer' ? [] : (layer.input as tf.SymbolicTensor).shape
    ) as number[];
    const weights = layer.getWeights().map((w) => ({ shape: w.shape, values: w.dataSync() as Float32Array }));
    const prefix = `l${index}_${layer.name}`;
    switch (layer.getClassName()) {
      case 'InputLayer':
      case 'Dropout':
        return;
      case 'Conv2D': {
        if (config.dataFormat === 'channelsFirst')
          throw unsupported(layer, 'uses channelsFirst; export expects channelsLast');
        const dilation = pair(config.dilationRate);
        if (dilation[0] !== 1 || dilation[1] !== 1) throw unsupported(layer, 'is dilated; not supported');
        toLayout('NCHW');
        const [kernel, bias] = weights;
        if (kernel === undefined) throw unsupported(layer, 'has no kernel');
        const [kh, kw, ci, co] = kernel.shape as [number, number, number, number];
        const oihw = new Float32Array(kernel.values.length);
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++)
            for (let c = 0; c < ci; c++)
              for (let o = 0; o < co; o++) {
                oihw[((o * ci + c) * kh + i) * kw + j] = kernel.values[((i * kw + j) * ci + c) * co + o] as number;
              }
        const strides = pair(config.strides);
        const inputs = [current, graph.constant(`${prefix}_W`, [co, ci, kh, kw], oihw)];
        if (bias) inputs.push(graph.constant(`${prefix}_B`, [co], bias.values));
        current = graph.node('Conv', inputs, {
          kernel_shape: [kh, kw],
          strides,
          pads: pads(config, layerInput, [kh, kw], strides),
          dilations: [1, 1],
        });
        activation(layer, config.activation);
        return;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        toLayout('NCHW');
        const pool = poolingOf(layer, layerInput);
        current = graph.node(pool.op, [current], { kernel_shape: pool.kernel, strides: pool.strides, pads: pool.pads });
        return;
      }
      case 'Flatten':
        toLayout('NHWC');
        current = graph.node('Flatten', [current], { axis: 1 });
        return;
      case 'Dense': {
        const [kernel, bias] = weights;
        if (kernel === undefined || kernel.shape.length !== 2)
          throw unsupported(layer, 'must follow a Flatten (2-D input)');
        const inputs = [current, graph.constant(`${prefix}_W`, kernel.shape, kernel.values)];
        if (bias) inputs.push(graph.constant(`${prefix}_B`, bias.shape, bias.values));
        current = graph.node('Gemm', inputs);
        outputWidth = kernel.shape[1] as number;
        activation(layer, config.activation);
        return;
      }
      case 'Maxout': {
        // Gemm to units * pieces, then the max over each unit's pieces.
        const [kernel, bias] = weights;
        if (kernel === undefined || bias === undefined) throw unsupported(layer, 'has no weights');
        const units = config.units as number;
        const pieces = config.pieces as number;
        const affine = graph.node('Gemm', [
          current,
          graph.constant(`${prefix}_W`, kernel.shape, kernel.values),
          graph.constant(`${prefix}_B`, bias.shape, bias.values),
        ]);
        const grouped = graph.node('Reshape', [affine, graph.int64Constant(`${prefix}_shape`, [0, units, pieces])]);
        current = graph.node('ReduceMax', [grouped], { axes: [2], keepdims: 0 });
        outputWidth = units;
        return;
      }
      case 'Rbf': {
        // -(x^2 @ beta) + x @ (2 beta mu) + (b - colsum(beta mu^2)): two Gemms and an Add.
        const [centres, logPrecision, bias] = weights;
        if (centres === undefined || logPrecision === undefined) throw unsupported(layer, 'has no weights');
        const [d, units] = centres.shape as [number, number];
        const negBeta = new Float32Array(d * units);
        const twoBetaMu = new Float32Array(d * units);
        const constant = bias ? Float32Array.from(bias.values) : new Float32Array(units);
        for (let i = 0; i < d * units; i++) {
          const beta = Math.exp(logPrecision.values[i] as number);
          const mu = centres.values[i] as number;
          negBeta[i] = -beta;
          twoBetaMu[i] = 2 * beta * mu;
          constant[i % units] = (constant[i % units] as number) - beta * mu * mu;
        }
        const squares = graph.node('Mul', [current, current]);
        const quadratic = graph.node('Gemm', [squares, graph.constant(`${prefix}_negBeta`, [d, units], negBeta)]);
        const linear = graph.node('Gemm', [
          current,
          graph.constant(`${prefix}_twoBetaMu`, [d, units], twoBetaMu),
          graph.constant(`${prefix}_C`, [units], constant),
        ]);
        current = graph.node('Add', [quadratic, linear]);
        outputWidth = units;
        return;
      }
      case 'Activation':
        activation(layer, config.activation);
        return;
      default:
        throw unsupported(
          layer,
          'is not supported; supported: Conv2D, MaxPooling2D, AveragePooling2D, ' +
            'Flatten, Dense, Maxout, Rbf, Dropout, Activation',
        );
    }
  });
  current = graph.node('Identity', [current], {}, OUTPUT_NAME);
  return graph.build({
    inputName: INPUT_NAME,
    inputShape,
    outputName: OUTPUT_NAME,
    outputWidth,
    opset: OPSET,
    docString,
  });
}
