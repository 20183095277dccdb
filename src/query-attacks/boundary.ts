import { POSITIVE } from '../common/params.js';
import { firstAdversarial, initialTries } from './decision-start.js';
import { clipUnit, gaussian, l2 } from './geometry.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/**
 * Boundary attack (Brendel et al. 1712.04248; after Foolbox 3's BoundaryAttack, defaults as
 * there): from a first adversarial point, propose an orthogonal (spherical) step around the
 * clean image and a step towards it; keep the proposal if still adversarial and closer. Every
 * 10th step also queries the spherical candidate alone, and the success rates of the last 100
 * spherical and 30 full proposals grow or shrink both step sizes by 1.5. It stops when the
 * source step has shrunk below its convergence threshold.
 */
export const boundary: QueryAttack = {
  name: 'boundary',
  kind: 'decision-based',
  description:
    'Boundary attack (Brendel et al. 1712.04248): random walk along ' +
    'the decision boundary towards the clean image, label-only',
  norms: ['l2'],
  parameters: [
    {
      name: 'sphericalStep',
      range: POSITIVE,
      description: 'initial orthogonal step, relative to the distance',
      default: () => 0.01,
    },
    {
      name: 'sourceStep',
      range: POSITIVE,
      description: 'initial step towards the clean image, relative to the distance',
      default: () => 0.01,
    },
    { name: 'stepAdaptation', range: POSITIVE, description: 'factor the steps grow or shrink by', default: () => 1.5 },
    {
      name: 'convergence',
      range: POSITIVE,
      description: 'source step below which the attack stops',
      default: () => 1e-7,
    },
    initialTries,
  ],
  async attack(task: ImageTask): Promise<void> {
    const { clean, random } = task;
    const d = clean.length;
    let best = await firstAdversarial(task);
    if (best === undefined) return;
    task.keep(best);
    let spherical = numberParam(task.params, 'sphericalStep');
    let source = numberParam(task.params, 'sourceStep');
    const adapt = numberParam(task.params, 'stepAdaptation');
    const sphericalStats: boolean[] = [];
    const stepStats: boolean[] = [];
    for (let step = 1; source >= numberParam(task.params, 'convergence'); step++) {
      const current = best;
      const toClean = Float64Array.from(clean, (v, i) => v - (current[i] as number));
      const sourceNorm = l2(toClean);
      // An orthogonal Gaussian direction of length spherical * distance, then back onto the sphere (Pythagoras).
      const eta = gaussian(d, random);
      const along = eta.reduce((s, v, i) => s + (v * (toClean[i] as number)) / sourceNorm, 0);
      for (let i = 0; i < d; i++) eta[i] = (eta[i] as number) - (along * (toClean[i] as number)) / sourceNorm;
      const etaScale = (spherical * sourceNorm) / l2(eta);
      const onSphere = Math.sqrt(spherical * spherical + 1);
      const sphericalCandidate = clipUnit(
        Float32Array.from(clean, (v, i) => v + ((eta[i] as number) * etaScale - (toClean[i] as number)) / onSphere),
      );
      const back = Float64Array.from(clean, (v, i) => v - (sphericalCandidate[i] as number));
      const backNorm = l2(back);
      const length = Math.max(0, source * sourceNorm + backNorm - sourceNorm) / backNorm;
      const candidate = clipUnit(Float32Array.from(sphericalCandidate, (v, i) => v + length * (back[i] as number)));
      const check = step % 10 === 0;
      const rows = new Float32Array((check ? 2 : 1) * d);
      rows.set(candidate);
      if (check) rows.set(sphericalCandidate, d);
      const answers = await task.query(rows, check ? 2 : 1);
      const isAdversarial = answers[0]?.adversarial === true;
      if (isAdversarial && l2(Float64Array.from(clean, (v, i) => v - (candidate[i] as number))) < sourceNorm) {
        best = candidate;
        task.keep(best);
      }
      if (!check) continue;
      push(sphericalStats, answers[1]?.adversarial === true, 100);
      push(stepStats, isAdversarial, 30);
      if (sphericalStats.length === 100) {
        const rate = mean(sphericalStats);
        const factor = rate > 0.5 ? adapt : rate < 0.2 ? 1 / adapt : 1;
        spherical *= factor;
        source *= factor;
        if (factor !== 1) sphericalStats.length = 0;
      }
      if (stepStats.length === 30) {
        const rate = mean(stepStats);
        const factor = rate > 0.25 ? adapt : rate < 0.1 ? 1 / adapt : 1;
        source *= factor;
        if (factor !== 1) stepStats.length = 0;
      }
    }
  },
};

function push(queue: boolean[], value: boolean, length: number): void {
  queue.push(value);
  if (queue.length > length) queue.shift();
}

function mean(values: readonly boolean[]): number {
  return values.filter(Boolean).length / values.length;
}
