/**
 * The seeded initialisers of tfjs-layers 4.22 (Keras's conventions), replicated without tfjs so
 * that the digit networks, first defined as tfjs models, keep their initial weights value for
 * value: every zoo target and committed report starts from them. tfjs draws a seeded uniform
 * tensor as `min + (max - min) * alea(String(seed))()` per element in row-major order, into
 * float32 (tfjs-core's rand_util UniformRandom over seedrandom 3.0.5's alea).
 * test/compute/network/keras-init.test.ts compares these with tfjs's own output.
 */

/**
 * Baagoe's Alea generator as seedrandom 3.0.5 writes it (MIT, David Bau), operation for
 * operation: the values are doubles, and any reordering of this arithmetic would move them.
 */
export function alea(seed: string): () => number {
  let n = 0xefc8249d;
  const mash = (data: string): number => {
    for (let i = 0; i < data.length; i++) {
      n += data.charCodeAt(i);
      let h = 0.02519603282416938 * n;
      n = h >>> 0;
      h -= n;
      h *= n;
      n = h >>> 0;
      h -= n;
      n += h * 0x100000000;
    }
    return (n >>> 0) * 2.3283064365386963e-10;
  };
  let c = 1;
  let s0 = mash(' ');
  let s1 = mash(' ');
  let s2 = mash(' ');
  s0 -= mash(seed);
  if (s0 < 0) s0 += 1;
  s1 -= mash(seed);
  if (s1 < 0) s1 += 1;
  s2 -= mash(seed);
  if (s2 < 0) s2 += 1;
  return () => {
    const t = 2091639 * s0 + c * 2.3283064365386963e-10;
    s0 = s1;
    s1 = s2;
    c = t | 0;
    s2 = t - c;
    return s2;
  };
}

/** tf.randomUniform(shape, min, max, 'float32', seed): `size` values in [min, max). */
export function seededUniform(size: number, min: number, max: number, seed: number): Float32Array {
  const random = alea(seed.toString());
  const range = max - min;
  const values = new Float32Array(size);
  for (let i = 0; i < size; i++) values[i] = min + range * random();
  return values;
}

const product = (values: readonly number[]) => values.reduce((a, b) => a * b, 1);

/** tfjs-layers' computeFans, channels last: a kernel [...receptive field, in, out] (HWIO for Conv2D). */
export function kerasFans(shape: readonly number[]): { in: number; out: number } {
  if (shape.length === 2) return { in: shape[0] as number, out: shape[1] as number };
  if (shape.length >= 3 && shape.length <= 5) {
    const field = product(shape.slice(0, -2));
    return { in: (shape[shape.length - 2] as number) * field, out: (shape[shape.length - 1] as number) * field };
  }
  const side = Math.sqrt(product(shape));
  return { in: side, out: side };
}

/** tf.initializers.glorotUniform({ seed }): VarianceScaling at scale 1, fan_avg, uniform in [-limit, limit). */
export function glorotUniform(shape: readonly number[], seed: number): Float32Array {
  const fans = kerasFans(shape);
  const scale = 1 / Math.max(1, (fans.in + fans.out) / 2);
  const limit = Math.sqrt(3 * scale);
  return seededUniform(product(shape), -limit, limit, seed);
}

/**
 * tf.initializers.randomUniform({ minval, maxval, seed }). tfjs reads each bound as `given ||
 * default` (-0.05, 0.05), so a bound of 0 becomes its default: { minval: 0, maxval: 1 } draws
 * from [-0.05, 1). The RBF layer's centres were drawn so, and are kept so.
 */
export function kerasRandomUniform(
  shape: readonly number[],
  bounds: { readonly minval: number; readonly maxval: number },
  seed: number,
): Float32Array {
  return seededUniform(product(shape), bounds.minval || -0.05, bounds.maxval || 0.05, seed);
}
