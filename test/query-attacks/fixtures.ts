import type { LossGradient, LossRequest, Surrogate } from '../../src/compute/surrogate.js';
import { OraclePool, TargetOracle, type OracleMode } from '../../src/oracle/index.js';
import { loadTarget } from '../../src/targets/descriptor.js';
import { tempDir } from '../fixtures/files.js';
import { fixedValues } from '../helpers/backend.js';
import { linearOnnxTarget, uniformImages } from '../oracle/fixtures.js';

/** A linear model logits = x W + b over NHWC-flattened images, in plain JS (the ONNX fixture's maths). */
export interface Linear {
  readonly weights: Float32Array;
  readonly bias: Float32Array;
  readonly classes: number;
  readonly size: number;
}

export function linearLogits(model: Linear, images: Float32Array, count: number): Float32Array {
  const { weights, bias, classes, size } = model;
  const out = new Float32Array(count * classes);
  for (let n = 0; n < count; n++) {
    for (let k = 0; k < classes; k++) {
      let s = bias[k] as number;
      for (let i = 0; i < size; i++) s += (images[n * size + i] as number) * (weights[i * classes + k] as number);
      out[n * classes + k] = s;
    }
  }
  return out;
}

export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < row.length; k++) if ((row[k] as number) > (row[best] as number)) best = k;
  return best;
}

/** The same model with its weights perturbed by `noise` (relative): a substitute that is close but not the target. */
export function perturbedLinear(model: Linear, noise: number, seed: number): Linear {
  const jitter = fixedValues(model.weights.length, seed);
  return { ...model, weights: model.weights.map((w, i) => w + noise * (jitter[i] as number)) };
}

/**
 * A Surrogate over a linear model, gradients in closed form: the margin m = z_y - max_{j != y} z_j
 * (clamped at -kappa) has gradient W_y - W_j*, cross-entropy has W (p - onehot(y)), the logit loss -z_y has -W_y.
 */
export function linearSurrogate(
  model: Linear,
  shape: readonly [number, number, number],
): Surrogate & { calls: number[] } {
  const calls: number[] = [];
  return {
    name: 'linear-test-surrogate',
    imageShape: shape,
    classes: model.classes,
    calls,
    logits: async (images, count) => linearLogits(model, images, count),
    async lossGradient(images: Float32Array, labels: Int32Array, request: LossRequest): Promise<LossGradient> {
      const count = labels.length;
      calls.push(count);
      const { classes, size, weights } = model;
      const logits = linearLogits(model, images, count);
      const loss = new Float32Array(count);
      const gradient = new Float32Array(count * size);
      for (let n = 0; n < count; n++) {
        const z = logits.subarray(n * classes, (n + 1) * classes);
        const y = labels[n] as number;
        const coefficients = new Float64Array(classes);
        if (request.loss === 'cross-entropy') {
          const max = Math.max(...z);
          const exps = Array.from(z, (v) => Math.exp(v - max));
          const sum = exps.reduce((a, b) => a + b, 0);
          exps.forEach((e, k) => (coefficients[k] = e / sum - (k === y ? 1 : 0)));
          loss[n] = -Math.log((exps[y] as number) / sum);
        } else if (request.loss === 'logit') {
          coefficients[y] = -1;
          loss[n] = -(z[y] as number);
        } else {
          let other = y === 0 ? 1 : 0;
          for (let k = 0; k < classes; k++) if (k !== y && (z[k] as number) > (z[other] as number)) other = k;
          const margin = (z[y] as number) - (z[other] as number);
          const sign = request.loss === 'cw-targeted' ? -1 : 1;
          loss[n] = Math.max(sign * margin, -(request.kappa ?? 0));
          if (sign * margin > -(request.kappa ?? 0)) {
            coefficients[y] = sign;
            coefficients[other] = -sign;
          }
        }
        for (let i = 0; i < size; i++) {
          let g = 0;
          for (let k = 0; k < classes; k++) g += (coefficients[k] as number) * (weights[i * classes + k] as number);
          gradient[n * size + i] = g;
        }
      }
      return { logits, loss, gradient };
    },
    dispose: async () => undefined,
  };
}

/**
 * White-box FGSM (L-inf: eps sign of the cross-entropy gradient; L2: eps times its unit vector) on the linear model;
 * returns how many it fools.
 */
export async function whiteBoxFgsmSuccess(
  model: Linear,
  shape: readonly [number, number, number],
  images: Float32Array,
  labels: Int32Array,
  eps: number,
  norm: 'linf' | 'l2',
): Promise<number> {
  const { gradient } = await linearSurrogate(model, shape).lossGradient(images, labels, { loss: 'cross-entropy' });
  const { size, classes } = model;
  const adversarial = new Float32Array(images.length);
  for (let n = 0; n < labels.length; n++) {
    const g = gradient.subarray(n * size, (n + 1) * size);
    const length = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    for (let i = 0; i < size; i++) {
      const step = norm === 'linf' ? eps * Math.sign(g[i] as number) : (eps * (g[i] as number)) / length;
      adversarial[n * size + i] = Math.min(1, Math.max(0, (images[n * size + i] as number) + step));
    }
  }
  const logits = linearLogits(model, adversarial, labels.length);
  let fooled = 0;
  for (let n = 0; n < labels.length; n++)
    if (argmax(logits.subarray(n * classes, (n + 1) * classes)) !== labels[n]) fooled++;
  return fooled;
}

/**
 * The shared set-up of the query-attack tests: an 8x8x1, 4-class linear ONNX target behind a
 * 2-worker pool, `count` uniform images and the labels the target gives them (so every image
 * starts correctly classified). Registers mocha hooks; read `pool` and `labels` inside tests.
 */
export function useLinearTarget(count: number, seed: number) {
  const dir = tempDir('transferbench-query-');
  const shape = [8, 8, 1] as const;
  const size = 64;
  const classes = 4;
  const fixture = linearOnnxTarget(dir, {
    name: 'linear',
    layout: 'NHWC',
    inputName: 'input',
    outputName: 'logits',
    h: 8,
    w: 8,
    c: 1,
    classes,
  });
  const state = {
    shape,
    size,
    classes,
    fixture,
    model: { weights: fixture.weights, bias: fixture.bias, classes, size } as Linear,
    images: uniformImages(count, size, seed),
    ids: Array.from({ length: count }, (_, i) => i),
    pool: undefined as unknown as OraclePool,
    labels: new Int32Array(0) as Int32Array<ArrayBufferLike>,
    /** A fresh target oracle (its own counts) in this mode. */
    target: (mode: OracleMode = 'probabilities', topK = 2) =>
      new TargetOracle(state.pool, loadTarget(fixture.descriptorPath), { mode, topK }),
  };
  before(async () => {
    state.pool = new OraclePool({ workers: 2 });
    state.labels = (await state.target('label').query(state.images, 'evaluation')).labels;
  });
  after(async () => {
    await state.pool.close();
  });
  return state;
}
