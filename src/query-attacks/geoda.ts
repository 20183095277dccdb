import { POSITIVE } from '../common/params.js';
import { distance, l2 } from './geometry.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * GeoDA (Rahmati, Moosavi-Dezfooli, Frossard and Dai 2003.06468; after BlackboxBench's
 * `geoda_attack.py`, the authors' code): near a boundary point x_b the boundary is nearly flat,
 * so the signs of labels at x_b + alpha r for random r in a low-frequency DCT subspace estimate
 * its normal; the estimates accumulate over iterations, and each iteration walks from x0 along
 * the normal (L2) or its sign (L-inf) to the boundary and binary-searches back to a new x_b.
 * Probes per iteration grow geometrically (ratio mu^(-2/3), the paper's optimal allocation),
 * allotted on the authors' schedule for a reference budget (BlackboxBench's 10,000, so that no
 * run reads its own budget; past the schedule the last allotment repeats). Defaults are
 * BlackboxBench's CIFAR-10 settings: subspace 10 x 10 DCT frequencies, tol 1e-4, alpha 2e-4, mu 0.6.
 */
export const geoda: QueryAttack = {
  name: 'geoda',
  kind: 'decision-based',
  description:
    'GeoDA (Rahmati et al. 2003.06468): boundary normals from label signs in a DCT subspace, flat-boundary steps',
  norms: ['l2', 'linf'],
  parameters: [
    {
      name: 'subspace',
      range: POSITIVE,
      description: 'side of the low-frequency DCT block the probes live in (10)',
      default: () => 10,
    },
    {
      name: 'tolerance',
      range: POSITIVE,
      description: 'L2 tolerance of the binary searches (1e-4)',
      default: () => 1e-4,
    },
    {
      name: 'probeScale',
      range: POSITIVE,
      description: 'probe radius alpha around the boundary point (2e-4)',
      default: () => 2e-4,
    },
    {
      name: 'mu',
      range: POSITIVE,
      description: 'the schedule ratio mu of probes per iteration (0.6)',
      default: () => 0.6,
    },
    {
      name: 'referenceQueries',
      range: POSITIVE,
      description: "budget the probe schedule is planned for (BlackboxBench's 10,000)",
      default: () => 10000,
    },
  ],
  async attack(task: ImageTask): Promise<void> {
    const { clean: x0, random, norm, label } = task;
    const [h, w, c] = task.shape;
    const d = x0.length;
    const clip = (v: Float32Array) => v.map((x) => Math.min(1, Math.max(0, x)));
    const adversarial = async (point: Float32Array) => (await task.query(point, 1))[0]?.adversarial === true;
    const tolerance = numberParam(task.params, 'tolerance');
    const binarySearch = async (adv: Float32Array) => {
      let [inside, outside] = [x0, adv];
      while (distance(outside, inside, 'l2') >= tolerance) {
        const mid = Float32Array.from(inside, (v, i) => (v + (outside[i] as number)) / 2);
        if (await adversarial(mid)) outside = mid;
        else inside = mid;
      }
      return outside;
    };
    // A first adversarial point: the hybrid's start, else Gaussian noise of growing size (the authors' 0.02 k).
    let random0: Float32Array | undefined = task.start && (await adversarial(task.start)) ? task.start : undefined;
    for (let k = 1; random0 === undefined; k++) {
      const candidate = clip(Float32Array.from(x0, (v) => v + 0.02 * k * random.normal()));
      if (await adversarial(candidate)) random0 = candidate;
    }
    let boundary = await binarySearch(random0);
    task.keep(boundary);
    const basis = dctBasis(h, w, Math.min(numberParam(task.params, 'subspace'), h, w));
    const alpha = numberParam(task.params, 'probeScale');
    const schedule = probeSchedule(numberParam(task.params, 'referenceQueries'), numberParam(task.params, 'mu'));
    const normal = new Float64Array(d);
    for (let iteration = 0; ; iteration++) {
      const q = schedule[Math.min(iteration, schedule.length - 1)] as number;
      const noises = Array.from({ length: q }, () => subspaceNoise(basis, h, w, c, random));
      const rows = new Float32Array(q * d);
      noises.forEach((r, k) => {
        for (let i = 0; i < d; i++)
          rows[k * d + i] = Math.min(1, Math.max(0, (boundary[i] as number) + alpha * (r[i] as number)));
      });
      const answers = await task.query(rows, q);
      noises.forEach((r, k) => {
        const sign = answers[k]?.label === label ? -1 : 1;
        for (let i = 0; i < d; i++) normal[i] = (normal[i] as number) + (sign * (r[i] as number)) / q;
      });
      // Walk from x0 along the normal (L-inf: its sign over its L2 length, as the authors) until adversarial, at
      // most 100 steps.
      const length = Math.max(l2(normal), 1e-12);
      const direction = norm === 'l2' ? normal : normal.map((v) => Math.sign(v) / length);
      let walked = x0;
      let crossed = await adversarial(walked);
      for (let k = 1; k <= 100 && !crossed; k++) {
        walked = clip(Float32Array.from(x0, (v, i) => v + k * (direction[i] as number)));
        crossed = await adversarial(walked);
      }
      if (!crossed) continue;
      const next = await binarySearch(walked);
      if (distance(next, x0, norm) < distance(boundary, x0, norm)) task.keep(next);
      boundary = next;
    }
  },
};

/** The authors' opt_query_iteration: T allotments proportional to mu^(-2i/3), the first between 50 and 80. */
export function probeSchedule(reference: number, mu: number): number[] {
  let iterations = Math.max(1, Math.round(reference / 500));
  const allot = (t: number) => {
    const coefficients = Array.from({ length: t }, (_, i) => mu ** ((-2 * i) / 3));
    const sum = coefficients.reduce((a, b) => a + b, 0);
    return coefficients.map((v) => Math.max(1, Math.round(((reference - t * 25) * v) / sum)));
  };
  let plan = allot(iterations);
  // Bounded: the authors' recursion can oscillate between two lengths; either is a valid plan.
  for (let step = 0; step < 100 && ((plan[0] as number) > 80 || (plan[0] as number) < 50); step++) {
    const next = (plan[0] as number) > 80 ? iterations + 1 : iterations - 1;
    if (next < 1) break;
    iterations = next;
    plan = allot(iterations);
  }
  return plan;
}

/** The lowest `side` x `side` orthonormal 2-D DCT basis images over h x w, each h*w values. */
function dctBasis(h: number, w: number, side: number): Float64Array[] {
  const cosine = (n: number, u: number, y: number) =>
    (u === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n)) * Math.cos((Math.PI * (2 * y + 1) * u) / (2 * n));
  const basis: Float64Array[] = [];
  for (let u = 0; u < side; u++)
    for (let v = 0; v < side; v++)
      basis.push(Float64Array.from({ length: h * w }, (_, k) => cosine(h, u, Math.floor(k / w)) * cosine(w, v, k % w)));
  return basis;
}

/** A Gaussian combination of the basis, drawn for each channel independently, NHWC. */
function subspaceNoise(basis: readonly Float64Array[], h: number, w: number, c: number, random: { normal(): number }) {
  const out = new Float64Array(h * w * c);
  for (let ch = 0; ch < c; ch++)
    for (const image of basis) {
      const weight = random.normal();
      for (let k = 0; k < h * w; k++) out[k * c + ch] = (out[k * c + ch] as number) + weight * (image[k] as number);
    }
  return out;
}
