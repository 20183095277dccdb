import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File, type TargetDescriptor } from '../../src/targets/descriptor.js';
import { GraphBuilder } from '../../src/targets/onnx/graph.js';
import { fixedValues } from '../helpers/backend.js';

/**
 * A foreign-style linear model written straight as ONNX: NCHW or NHWC input under any name,
 * flattened, Gemm, logits out. Returns the descriptor path and a JS reference for its logits.
 */
export function linearOnnxTarget(
  dir: string,
  options: {
    name: string;
    layout: 'NCHW' | 'NHWC';
    inputName: string;
    outputName: string;
    h: number;
    w: number;
    c: number;
    classes: number;
    nanWeights?: boolean;
    descriptor?: Partial<TargetDescriptor>;
  },
): {
  descriptorPath: string;
  modelPath: string;
  logits: (nhwc: Float32Array, count: number) => Float32Array;
  weights: Float32Array;
  bias: Float32Array;
} {
  const { h, w, c, classes } = options;
  const d = h * w * c;
  const weights = fixedValues(d * classes, 5);
  if (options.nanWeights) weights[0] = Number.NaN;
  const bias = fixedValues(classes, 6);
  const graph = new GraphBuilder();
  const flat = graph.node('Flatten', [options.inputName], { axis: 1 });
  graph.node(
    'Gemm',
    [flat, graph.constant('W', [d, classes], weights), graph.constant('B', [classes], bias)],
    {},
    options.outputName,
  );
  const bytes = graph.build({
    inputName: options.inputName,
    inputShape: options.layout === 'NCHW' ? [c, h, w] : [h, w, c],
    outputName: options.outputName,
    outputWidth: classes,
    opset: 13,
    docString: 'test fixture',
  });
  const modelPath = join(dir, `${options.name}.onnx`);
  writeFileSync(modelPath, bytes);
  const range: [number, number] = options.layout === 'NCHW' ? [0, 255] : [0, 1];
  const mean = options.layout === 'NCHW' ? 127.5 : 0;
  const std = options.layout === 'NCHW' ? 127.5 : 1;
  const descriptor: TargetDescriptor = {
    name: options.name,
    model: `${options.name}.onnx`,
    sha256: sha256File(modelPath),
    inputName: options.inputName,
    outputName: options.outputName,
    layout: options.layout,
    inputShape: options.layout === 'NCHW' ? [c, h, w] : [h, w, c],
    inputRange: range,
    normalization: { mean: [mean], std: [std] },
    outputKind: 'logits',
    classNames: Array.from({ length: classes }, (_, i) => `class-${i}`),
    dataset: 'synthetic',
    ...options.descriptor,
  };
  const descriptorPath = join(dir, `${options.name}.json`);
  writeFileSync(descriptorPath, JSON.stringify(descriptor));
  const logits = (nhwc: Float32Array, count: number) => {
    const out = new Float32Array(count * classes);
    for (let n = 0; n < count; n++) {
      for (let k = 0; k < classes; k++) {
        let s = bias[k] as number;
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++)
            for (let ch = 0; ch < c; ch++) {
              const v =
                ((nhwc[((n * h + y) * w + x) * c + ch] as number) * (range[1] - range[0]) + range[0] - mean) / std;
              const flatIndex = options.layout === 'NCHW' ? (ch * h + y) * w + x : (y * w + x) * c + ch;
              s += v * (weights[flatIndex * classes + k] as number);
            }
        out[n * classes + k] = s;
      }
    }
    return out;
  };
  return { descriptorPath, modelPath, logits, weights, bias };
}

export function softmax(logits: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(logits.length);
  for (let r = 0; r < logits.length / classes; r++) {
    const row = logits.subarray(r * classes, (r + 1) * classes);
    const max = Math.max(...row);
    const exps = Array.from(row, (v) => Math.exp(v - max));
    const sum = exps.reduce((a, b) => a + b, 0);
    exps.forEach((e, k) => (out[r * classes + k] = e / sum));
  }
  return out;
}

export function uniformImages(count: number, size: number, seed: number): Float32Array {
  return fixedValues(count * size, seed).map((v) => (v + 1) / 2);
}
