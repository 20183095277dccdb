import { badOption } from '../common/errors.js';
import { hasLogitsGradient } from '../compute/ensemble-surrogate.js';
import type { Surrogate } from '../compute/surrogate.js';
import type { Channel } from './gather.js';

/** What the run serves to hybrids from their surrogates, each channel one batched call per model. */
export interface SurrogateChannels {
  /** P-RGF's prior: d margin / d image of the first surrogate. */
  readonly margin: Channel<{ image: Float32Array; label: number }, Float32Array>;
  readonly logits: Channel<{ image: Float32Array; model: number }, Float32Array>;
  readonly logitGradient: Channel<{ image: Float32Array; weights: Float32Array; model: number }, Float32Array>;
}

export function surrogateChannels(
  attack: string,
  surrogates: readonly Surrogate[],
  size: number,
  classes: number,
): SurrogateChannels {
  const model = (m: number): Surrogate => {
    const surrogate = surrogates[m];
    if (surrogate === undefined)
      throw badOption(
        `${attack}: surrogate ${m}`,
        `${surrogates.length} given`,
        'a surrogate model to guide the attack',
      );
    return surrogate;
  };
  const stack = (images: readonly Float32Array[]) => {
    const out = new Float32Array(images.length * size);
    images.forEach((image, i) => out.set(image, i * size));
    return out;
  };
  /** Requests grouped by model, each group served by one call, replies put back in request order. */
  const byModel = <R extends { model: number }>(
    requests: readonly R[],
    serve: (m: number, group: readonly R[]) => Promise<Float32Array[]>,
  ): Promise<Float32Array[]> => {
    const groups = new Map<number, number[]>();
    requests.forEach((r, i) => groups.set(r.model, [...(groups.get(r.model) ?? []), i]));
    const replies: Float32Array[] = new Array(requests.length);
    return Promise.all(
      [...groups].map(async ([m, indices]) => {
        const answers = await serve(
          m,
          indices.map((i) => requests[i] as R),
        );
        indices.forEach((i, k) => (replies[i] = answers[k] as Float32Array));
      }),
    ).then(() => replies);
  };
  return {
    margin: {
      async serve(requests) {
        // A kappa this large never clamps: the gradient is the margin's own, also where the surrogate is already
        // fooled.
        const { gradient } = await model(0).lossGradient(
          stack(requests.map((r) => r.image)),
          Int32Array.from(requests, (r) => r.label),
          { loss: 'cw-untargeted', kappa: 1e6 },
        );
        return requests.map((_, i) => gradient.slice(i * size, (i + 1) * size));
      },
    },
    logits: {
      serve: (requests) =>
        byModel(requests, async (m, group) => {
          const logits = await model(m).logits(stack(group.map((r) => r.image)), group.length);
          return group.map((_, i) => logits.slice(i * classes, (i + 1) * classes));
        }),
    },
    logitGradient: {
      serve: (requests) =>
        byModel(requests, async (m, group) => {
          const surrogate = model(m);
          const images = stack(group.map((r) => r.image));
          if (hasLogitsGradient(surrogate)) {
            const upstream = new Float32Array(group.length * classes);
            group.forEach((r, i) => upstream.set(r.weights, i * classes));
            const gradient = await surrogate.logitsGradient(images, upstream);
            return group.map((_, i) => gradient.slice(i * size, (i + 1) * size));
          }
          // Without a vector-Jacobian product: sum_k w_k dz_k, each dz_k minus the gradient of the logit loss -z_k.
          const repeated = new Float32Array(group.length * classes * size);
          const labels = new Int32Array(group.length * classes);
          group.forEach((r, i) => {
            for (let k = 0; k < classes; k++) {
              repeated.set(r.image, (i * classes + k) * size);
              labels[i * classes + k] = k;
            }
          });
          const { gradient } = await surrogate.lossGradient(repeated, labels, { loss: 'logit' });
          return group.map((r, i) => {
            const out = new Float32Array(size);
            for (let k = 0; k < classes; k++) {
              const w = r.weights[k] as number;
              if (w === 0) continue;
              const row = gradient.subarray((i * classes + k) * size, (i * classes + k + 1) * size);
              for (let j = 0; j < size; j++) out[j] = (out[j] as number) - w * (row[j] as number);
            }
            return out;
          });
        }),
    },
  };
}
