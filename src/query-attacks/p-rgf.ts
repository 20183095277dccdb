import { POSITIVE } from '../common/params.js';
import { gaussian, projectToBall } from './geometry.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * P-RGF (Cheng et al. 1906.06919; after the authors' attack.py, method "biased"): random
 * gradient-free estimates whose directions are biased towards a surrogate's gradient by a
 * lambda chosen from the estimated cosine alpha between that prior and the target's gradient;
 * at lambda = 1 the prior alone is followed and the q probes are saved. The loss ascended is
 * minus the margin; probes are clipped into [0, 1] and the actual probe direction used.
 */
export const pRgf: QueryAttack = {
  name: 'p-rgf',
  kind: 'hybrid',
  description: "P-RGF (Cheng et al. 1906.06919): gradient-free estimates guided by a substitute's gradient as prior",
  norms: ['linf', 'l2'],
  parameters: [
    { name: 'samples', range: POSITIVE, description: 'probes q per gradient estimate', default: () => 50 },
    {
      name: 'normSamples',
      range: POSITIVE,
      description: "probes estimating the target gradient's norm (every 10 iterations and at the 3rd)",
      default: () => 10,
    },
    {
      name: 'sigma',
      range: POSITIVE,
      description:
        "probe radius per pixel (the authors' larger setting, 1e-3: float32 probabilities hide smaller changes)",
      default: () => 1e-3,
    },
    {
      name: 'stepSize',
      range: POSITIVE,
      description: "step per iteration: L-inf eps/10, L2 eps/8 in length (the authors' ratios)",
      default: ({ norm, eps }) => (norm === 'linf' ? eps / 10 : eps / 8),
    },
  ],
  async attack(task: ImageTask): Promise<void> {
    const { clean, eps, norm, random } = task;
    const d = clean.length;
    const q = numberParam(task.params, 'samples');
    const step = numberParam(task.params, 'stepSize');
    let sigma = numberParam(task.params, 'sigma');
    const rms = (v: Float64Array) => Math.max(1e-12, Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length));
    let x = task.start ? projectToBall(task.start, clean, eps, norm) : clean.slice();
    let loss = -((await task.query(x, 1))[0]?.margin as number);
    task.keep(x);
    // Probes at x + sigma u, clipped; returns each probe's loss change and actual direction.
    const probe = async (directions: Float64Array[]) => {
      const rows = new Float32Array(directions.length * d);
      const actual = directions.map((u, k) => {
        const moved = new Float64Array(d);
        for (let i = 0; i < d; i++) {
          const v = Math.min(1, Math.max(0, (x[i] as number) + sigma * (u[i] as number)));
          rows[k * d + i] = v;
          moved[i] = (v - (x[i] as number)) / sigma;
        }
        return moved;
      });
      const answers = await task.query(rows, directions.length);
      return answers.map((a, k) => ({ change: -a.margin - loss, direction: actual[k] as Float64Array }));
    };
    let normSquare = 0;
    for (let iteration = 0; ; iteration++) {
      const gradient = await task.surrogateGradient(x);
      let prior = Float64Array.from(gradient, (v) => -v);
      const priorScale = rms(prior);
      prior = prior.map((v) => v / priorScale);
      if (iteration % 10 === 0 || iteration === 3) {
        const samples = await probe(
          Array.from({ length: numberParam(task.params, 'normSamples') }, () => unitRms(gaussian(d, random))),
        );
        normSquare = samples.reduce((s, p) => s + (p.change / sigma) ** 2, 0) / samples.length;
      }
      let priorChange = 0;
      for (let doubling = 0; priorChange === 0 && doubling < 20; doubling++) {
        priorChange = ((await probe([prior]))[0]?.change as number) ?? 0;
        if (priorChange === 0) sigma *= 2;
      }
      let alpha = priorChange / sigma / Math.max(Math.sqrt(d * normSquare), 1e-12);
      if (alpha < 0) {
        prior = prior.map((v) => -v);
        alpha = -alpha;
      }
      const lambda = biasLambda(alpha, d, q);
      let direction = prior;
      if (lambda < 1) {
        const directions = Array.from({ length: q }, () => {
          const xi = gaussian(d, random);
          const along = xi.reduce((s, v, i) => s + v * (prior[i] as number), 0) / d;
          const orthogonal = unitRms(xi.map((v, i) => v - along * (prior[i] as number)));
          return orthogonal.map((v, i) => Math.sqrt(1 - lambda) * v + Math.sqrt(lambda) * (prior[i] as number));
        });
        const samples = await probe(directions);
        direction = new Float64Array(d);
        for (const s of samples)
          for (let i = 0; i < d; i++)
            direction[i] = (direction[i] as number) + (s.change * (s.direction[i] as number)) / q;
      }
      const length = norm === 'l2' ? Math.max(1e-12, Math.sqrt(direction.reduce((s, v) => s + v * v, 0))) : 1;
      const moved = Float32Array.from(
        x,
        (v, i) => v + step * (norm === 'l2' ? (direction[i] as number) / length : Math.sign(direction[i] as number)),
      );
      x = projectToBall(moved, clean, eps, norm);
      loss = -((await task.query(x, 1))[0]?.margin as number);
      task.keep(x);
    }
  },
};

/** A vector scaled to root-mean-square 1 (the authors' normalisation of probes and prior). */
function unitRms(v: Float64Array): Float64Array {
  const scale = Math.max(1e-12, Math.sqrt(v.reduce((s, x) => s + x * x, 0) / v.length));
  return v.map((x) => x / scale);
}

/** The optimal bias lambda* for cosine alpha, dimension d and q probes (the paper's eq. 12). */
export function biasLambda(alpha: number, d: number, q: number): number {
  const a2 = alpha * alpha;
  if (a2 <= 1 / (d + 2 * q - 2)) return 0;
  if (a2 >= (2 * q - 1) / (d + 2 * q - 2)) return 1;
  return ((1 - a2) * (1 - a2 * (d + 2 * q - 2))) / (a2 * a2 * d * (d + 2 * q - 2) - 2 * a2 * d * q + 1);
}
