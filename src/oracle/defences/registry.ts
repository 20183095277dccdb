import { badOption } from '../../common/errors.js';
import { hashString, Random } from '../../common/random.js';
import { Registry } from '../../common/registry.js';
import { bitDepthDefence } from './bit-depth.js';
import { jpegDefence } from './jpeg.js';
import { medianDefence } from './median.js';
import { resizePadDefence } from './resize-pad.js';
import { smoothingDefence } from './smoothing.js';
import type { Defence, DefenceSpec } from './types.js';

export type { Defence, DefenceSpec } from './types.js';

/** Every input defence a target descriptor may name, in the order `list` would show them. */
export const DEFENCES = [jpegDefence, bitDepthDefence, medianDefence, resizePadDefence, smoothingDefence].reduce(
  (registry, defence) => registry.add(defence.name, defence),
  new Registry<Defence>('defence'),
);

/** A defence's parameters: its defaults under the spec's values, each checked; `where` names the key to fix. */
export function resolveDefence(spec: DefenceSpec, where: string): { defence: Defence; params: Record<string, number> } {
  const defence = DEFENCES.get(spec.name);
  const given = spec.params ?? {};
  for (const key of Object.keys(given))
    if (!defence.parameters.some((p) => p.name === key))
      throw badOption(
        `${where}.params.${key}`,
        given[key],
        `a parameter of ${defence.name}: ${defence.parameters.map((p) => p.name).join(', ')}`,
      );
  const params: Record<string, number> = {};
  for (const p of defence.parameters) {
    const value = given[p.name] ?? p.default;
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      value >= p.minimum &&
      value <= p.maximum &&
      (!p.integer || Number.isInteger(value));
    if (!ok)
      throw badOption(
        `${where}.params.${p.name}`,
        value,
        `${p.integer ? 'an integer' : 'a number'} in [${p.minimum}, ${p.maximum}]`,
      );
    params[p.name] = value;
  }
  return { defence, params };
}

/**
 * An image's own random stream: from the defence's seed and the image's bytes, so an image gets the same draws
 * whatever batch it comes in and however often it is asked (a reproducible benchmark; a fresh draw per query would
 * let repeated queries average the randomness away at no cost to the attacker's budget).
 */
function streamFor(seed: number, pixels: Float32Array): Random {
  const bytes = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
  let text = '';
  for (let i = 0; i < bytes.length; i += 4096) text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return new Random((seed ^ hashString(text)) | 0);
}

/** The model inputs for `count` NHWC images behind the defence: `copies` per image, image-major. */
export function defendedInputs(
  spec: DefenceSpec,
  images: Float32Array,
  count: number,
  shape: readonly [number, number, number],
): { images: Float32Array; copies: number; vote: boolean } {
  const { defence, params } = resolveDefence(spec, 'defence');
  const size = shape[0] * shape[1] * shape[2];
  const copies = defence.copies(params);
  const out = new Float32Array(count * copies * size);
  for (let i = 0; i < count; i++) {
    const pixels = images.subarray(i * size, (i + 1) * size);
    out.set(defence.apply({ pixels, shape }, params, streamFor(spec.seed ?? 0, pixels)), i * copies * size);
  }
  return { images: out, copies, vote: defence.vote ?? false };
}

/** Per image, the shares of its copies' top classes (ties to the lower class, as argmax takes the first). */
export function voteShares(probabilities: Float32Array, count: number, copies: number, classes: number): Float32Array {
  const votes = new Int32Array(count * classes);
  for (let i = 0; i < count; i++)
    for (let j = 0; j < copies; j++) {
      const row = (i * copies + j) * classes;
      let best = 0;
      for (let k = 1; k < classes; k++)
        if ((probabilities[row + k] as number) > (probabilities[row + best] as number)) best = k;
      votes[i * classes + best] = (votes[i * classes + best] as number) + 1;
    }
  return Float32Array.from(votes, (v) => v / copies);
}

/** Forward passes one attacker query costs behind the defence (1 without one). */
export function forwardPassesPerQuery(spec: DefenceSpec | undefined): number {
  if (spec === undefined) return 1;
  const { defence, params } = resolveDefence(spec, 'defence');
  return defence.copies(params);
}
