import assert from 'node:assert/strict';
import { Random } from '../../src/common/random.js';
import { OraclePool, TargetOracle } from '../../src/oracle/index.js';
import { l2 } from '../../src/query-attacks/geometry.js';
import { runQueryAttack } from '../../src/query-attacks/index.js';
import { signOptEstimate } from '../../src/query-attacks/sign-opt.js';
import { loadTarget } from '../../src/targets/descriptor.js';
import { tempDir } from '../fixtures/files.js';
import { linearOnnxTarget } from '../oracle/fixtures.js';

/** A two-class linear model's margin z_y - z_other along a = W_y - W_other: m(x) = a.x + m0. */
function twoClass(weights: Float32Array, bias: Float32Array, size: number, y: number) {
  const a = Float64Array.from(
    { length: size },
    (_, i) => (weights[i * 2 + y] as number) - (weights[i * 2 + 1 - y] as number),
  );
  const offset = (bias[y] as number) - (bias[1 - y] as number);
  return { a, margin: (x: ArrayLike<number>) => a.reduce((s, ai, i) => s + ai * (x[i] as number), offset) };
}

/**
 * The smallest L-inf distance t from x to the boundary inside [0, 1]: each pixel moves by
 * min(t, its room) against a's sign, so the margin falls by f(t) = sum |a_i| min(t, room_i);
 * f is piecewise linear, solved exactly between sorted rooms.
 */
function exactLinf(x: Float32Array, a: Float64Array, margin: number): number {
  const pixels = Array.from(a, (ai, i) => ({
    weight: Math.abs(ai),
    room: ai > 0 ? (x[i] as number) : 1 - (x[i] as number),
  }));
  pixels.sort((p, q) => p.room - q.room);
  let [fixed, slope, previous] = [0, pixels.reduce((s, p) => s + p.weight, 0), 0];
  for (const p of pixels) {
    if (fixed + slope * p.room >= margin) break;
    fixed += p.weight * p.room;
    slope -= p.weight;
    previous = p.room;
  }
  const t = (margin - fixed) / slope;
  assert.ok(t >= previous - 1e-12, 'the crossing lies past the last saturated pixel');
  return t;
}

describe('query attacks: decision-based reductions on linear models', () => {
  it("Sign-OPT's sign estimate along each direction is the sign of g's true directional derivative", async () => {
    const size = 64;
    const random = new Random(3);
    const weights = Float32Array.from({ length: size * 2 }, () => random.normal() * 0.1);
    const bias = Float32Array.of(0.5, 0);
    const x0 = new Float32Array(size).fill(0.5);
    const { a, margin } = twoClass(weights, bias, size, 0);
    const m0 = margin(x0);
    assert.ok(m0 > 0);
    // g(theta) = -m0 |theta| / (a . theta) along unit theta (a . theta < 0), and its gradient in closed form.
    const theta = Float64Array.from(a, (v) => -v + 0.3 * random.normal() * Math.abs(v));
    const length = l2(theta);
    theta.forEach((v, i) => (theta[i] = v / length));
    const dot = a.reduce((s, v, i) => s + v * (theta[i] as number), 0);
    const g = -m0 / dot;
    const reach = g * theta.reduce((s, v) => Math.max(s, Math.abs(v)), 0) * 1.01;
    assert.ok(g > 0 && reach < 0.5, `g ${g}: the boundary lies inside [0, 1] along theta`);
    const gradient = Float64Array.from(theta, (t, i) => (-m0 * (t * dot - (a[i] as number))) / (dot * dot));
    const isAdversarial = async (rows: Float32Array, count: number) =>
      Array.from({ length: count }, (_, k) => margin(rows.subarray(k * size, (k + 1) * size)) < 0);
    let compared = 0;
    const directions: Float64Array[] = [];
    for (let k = 0; k < 60; k++) {
      const u = Float64Array.from({ length: size }, () => random.normal());
      const ul = l2(u);
      u.forEach((v, i) => (u[i] = v / ul));
      directions.push(u);
      const derivative = gradient.reduce((s, gi, i) => s + gi * (u[i] as number), 0);
      // Directions nearly tangent to g's level set would be below float32's resolution of the query point.
      if (Math.abs(derivative) * 1e-3 < 1e-9) continue;
      const estimate = await signOptEstimate(isAdversarial, x0, theta, g, 1e-3, [u]);
      assert.deepEqual(
        Array.from(estimate),
        Array.from(u, (v) => Math.sign(derivative) * v),
        `direction ${k}`,
      );
      compared++;
    }
    assert.ok(compared >= 55, `${compared} of 60 directions compared`);
    const estimate = await signOptEstimate(isAdversarial, x0, theta, g, 1e-3, directions);
    const cosine = estimate.reduce((s, v, i) => s + v * (gradient[i] as number), 0) / (l2(estimate) * l2(gradient));
    assert.ok(cosine > 0.5, `the averaged estimate points along g's gradient (cosine ${cosine})`);
  });

  describe('RayS on a two-class linear ONNX target', () => {
    const dir = tempDir('transferbench-rays-');
    const fixture = linearOnnxTarget(dir, {
      name: 'linear-two',
      layout: 'NHWC',
      inputName: 'input',
      outputName: 'logits',
      h: 8,
      w: 8,
      c: 1,
      classes: 2,
    });
    let pool: OraclePool;
    before(() => {
      pool = new OraclePool({ workers: 2 });
    });
    after(async () => pool.close());

    it('finds the exact L-inf distance to the boundary within its search tolerance', async () => {
      const size = 64;
      const count = 6;
      const random = new Random(11);
      const images = Float32Array.from({ length: count * size }, () => 0.2 + 0.6 * random.next());
      const target = new TargetOracle(pool, loadTarget(fixture.descriptorPath), { mode: 'label' });
      const labels = (await target.query(images, 'evaluation')).labels;
      const outcome = await runQueryAttack({
        attack: 'rays',
        oracle: target.withImageBudget(6000),
        images,
        labels,
        ids: Array.from({ length: count }, (_, i) => i),
        // Smaller than any image's distance: RayS searches on and the run never stops it early.
        eps: 1e-4,
        norm: 'linf',
        seed: 4,
        // A tenth of the authors' 1e-3: at 1e-3 a flip that shortens the ray by less than the tolerance is missed, and
        // an image 0.003 from the boundary ended 9% above it.
        params: { tolerance: 1e-4 },
      });
      const tolerance = 1e-4 / Math.sqrt(size);
      outcome.images.forEach((image, n) => {
        const x = images.subarray(n * size, (n + 1) * size);
        const { a, margin } = twoClass(fixture.weights, fixture.bias, size, labels[n] as number);
        const exact = exactLinf(x, a, margin(x));
        assert.equal(image.success, false);
        assert.ok(image.distance >= exact - 1e-6, `image ${n}: ${image.distance} below the exact ${exact}`);
        assert.ok(image.distance - exact <= 2 * tolerance, `image ${n}: ${image.distance} vs exact ${exact}`);
      });
    });
  });
});
