import * as ort from 'onnxruntime-node';
import { Random } from '../../../src/common/random.js';
import { buildGradientModel, type GradientModelOptions } from '../../../src/compute/onnx-gradient/build.js';
import {
  buildWeightGradientModel,
  WEIGHT_GRADIENT_IO,
  weightGradientName,
} from '../../../src/compute/onnx-gradient/weights.js';
import { decodeModel, tensorValues } from '../../../src/compute/onnx-gradient/ir.js';
import { imageShapeOf, type OnnxModelDescription } from '../../../src/compute/onnx-gradient/heads.js';

/** ||a - b||_2 / ||b||_2. */
export function normwiseRelativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < b.length; i++) {
    num += ((a[i] as number) - (b[i] as number)) ** 2;
    den += (b[i] as number) ** 2;
  }
  return Math.sqrt(num / den);
}

export interface GradientCheck {
  readonly analytic: Float32Array;
  readonly numeric: Float32Array;
  readonly error: number;
}

/**
 * The generated model's gradient against central finite differences of its own `loss` output,
 * every perturbed image in one onnxruntime run. Each image's pixels are a random permutation of
 * (k + 1/2) / size, so any two differ by at least 1 / size > 4 steps: a step never swaps the
 * maximum of a pool window, and kinks (Clip bounds at multiples of 1/8 in the model's input)
 * stay clear of every pixel.
 */
export async function checkAgainstFiniteDifferences(
  bytes: Uint8Array,
  description: OnnxModelDescription,
  options: GradientModelOptions & { count?: number; step?: number; seed?: number; kappa?: number },
): Promise<GradientCheck> {
  const count = options.count ?? 2;
  const random = new Random(options.seed ?? 7);
  const [h, w, c] = imageShapeOf(description);
  const size = h * w * c;
  // As large as the spacing of pixel values allows: float32 rounding of the loss divided by the step dominates the
  // error.
  const step = options.step ?? 0.2 / size;
  const images = new Float32Array(count * size);
  for (let i = 0; i < count; i++)
    images.set(
      Array.from(random.permutation(size), (k) => (k + 0.5) / size),
      i * size,
    );
  if (1 / size <= 4 * step)
    throw new Error(`finite differences: step ${step} too large for ${size} distinct pixel values`);
  const labels = Int32Array.from({ length: count }, () => random.int(description.classes));
  const session = await ort.InferenceSession.create(await buildGradientModel(bytes, description, options), {
    intraOpNumThreads: 1,
  });
  try {
    const run = async (x: Float32Array, y: Int32Array) => {
      const feeds: Record<string, ort.Tensor> = {
        images: new ort.Tensor('float32', x, [y.length, h, w, c]),
        labels: new ort.Tensor('int32', y, [y.length]),
      };
      if (options.loss !== 'cross-entropy')
        feeds.kappa = new ort.Tensor('float32', new Float32Array([options.kappa ?? 0]), []);
      return session.run(feeds);
    };
    const analytic = (await run(images, labels)).gradient?.data as Float32Array;
    // Fourth-order central differences: image 4 j + k is image (j / size) with element j % size
    // moved by OFFSETS[k] steps; f' = (8 (f(+1) - f(-1)) - (f(+2) - f(-2))) / 12 step.
    const offsets = [1, -1, 2, -2];
    const perturbed = new Float32Array(offsets.length * count * size * size);
    const perturbedLabels = new Int32Array(offsets.length * count * size);
    for (let j = 0; j < count * size; j++) {
      const image = Math.floor(j / size);
      offsets.forEach((offset, k) => {
        const at = (offsets.length * j + k) * size;
        perturbed.set(images.subarray(image * size, (image + 1) * size), at);
        perturbed[at + (j % size)] = (perturbed[at + (j % size)] as number) + offset * step;
        perturbedLabels[offsets.length * j + k] = labels[image] as number;
      });
    }
    const f = (await run(perturbed, perturbedLabels)).loss?.data as Float32Array;
    const numeric = Float32Array.from({ length: count * size }, (_, j) => {
      const [p1, m1, p2, m2] = [0, 1, 2, 3].map((k) => f[4 * j + k] as number) as [number, number, number, number];
      return (8 * (p1 - m1) - (p2 - m2)) / (12 * step);
    });
    return { analytic, numeric, error: normwiseRelativeError(analytic, numeric) };
  } finally {
    await session.release();
  }
}

export interface WeightGradientCheck {
  readonly weight: string;
  /** Central difference of the mean loss along a random direction. */
  readonly numeric: number;
  /** The generated gradient's dot product with that direction. */
  readonly analytic: number;
  /** ||gradient|| ||direction||: the error is judged relative to it. */
  readonly scale: number;
}

/**
 * buildWeightGradientModel's d(mean loss)/d(weight) for every weight of a classifier, each
 * against the central difference of the mean loss along one random direction in that weight's
 * space (a batch of `count` random images and labels).
 */
export async function checkWeightGradients(
  bytes: Uint8Array,
  description: OnnxModelDescription,
  options: { count?: number; seed?: number; eps?: number } = {},
): Promise<WeightGradientCheck[]> {
  const built = await buildWeightGradientModel(bytes, description);
  const initializers = decodeModel(bytes).initializers;
  const values = new Map(
    built.weights.map((w) => [
      w.name,
      Float32Array.from(tensorValues(initializers.get(w.name) as NonNullable<ReturnType<typeof initializers.get>>)),
    ]),
  );
  const session = await ort.InferenceSession.create(built.bytes, { intraOpNumThreads: 1 });
  const random = new Random(options.seed ?? 7);
  const n = options.count ?? 5;
  const shape = imageShapeOf(description);
  const size = shape.reduce((a, b) => a * b, 1);
  const images = Float32Array.from({ length: n * size }, () => random.next());
  const labels = Int32Array.from({ length: n }, () => random.int(description.classes));
  const run = async (weights: Map<string, Float32Array>) => {
    const feeds: Record<string, ort.Tensor> = {
      images: new ort.Tensor('float32', images, [n, ...shape]),
      labels: new ort.Tensor('int32', labels, [n]),
    };
    for (const w of built.weights)
      feeds[w.name] = new ort.Tensor('float32', weights.get(w.name) as Float32Array, [...w.dims]);
    return session.run(feeds);
  };
  const eps = options.eps ?? 1e-3;
  try {
    const base = await run(values);
    const checks: WeightGradientCheck[] = [];
    for (const w of built.weights) {
      const gradient = base[weightGradientName(w.name)]?.data as Float32Array;
      const direction = Float32Array.from(gradient, () => random.next() - 0.5);
      const shifted = (sign: number) =>
        new Map([
          ...values,
          [
            w.name,
            Float32Array.from(values.get(w.name) as Float32Array, (v, i) => v + sign * eps * (direction[i] as number)),
          ],
        ]);
      const plus = (await run(shifted(1)))[WEIGHT_GRADIENT_IO.meanLoss]?.data[0] as number;
      const minus = (await run(shifted(-1)))[WEIGHT_GRADIENT_IO.meanLoss]?.data[0] as number;
      const analytic = gradient.reduce((s, g, i) => s + g * (direction[i] as number), 0);
      const scale =
        Math.sqrt(gradient.reduce((s, g) => s + g * g, 0)) * Math.sqrt(direction.reduce((s, d) => s + d * d, 0));
      checks.push({ weight: w.name, numeric: (plus - minus) / (2 * eps), analytic, scale });
    }
    return checks;
  } finally {
    await session.release();
  }
}
