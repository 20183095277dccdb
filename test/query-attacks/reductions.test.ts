import assert from 'node:assert/strict';
import { nesEstimate } from '../../src/query-attacks/nes.js';
import { runQueryAttack } from '../../src/query-attacks/index.js';
import { useLinearTarget } from './fixtures.js';

describe('query attacks: reductions to known answers', () => {
  it('NES with one antithetic pair along a fixed direction is the central finite difference along it', () => {
    // L(x) = sum_i c_i x_i^2 + x_0 x_1, probed at x along u.
    const loss = (x: readonly number[]) => 0.5 * x[0]! ** 2 + 2 * x[1]! ** 2 - x[2]! ** 2 + x[0]! * x[1]!;
    const x = [0.3, -0.2, 0.7];
    const u = Float64Array.of(0.6, -0.8, 0.1);
    const sigma = 1e-3;
    const at = (s: number) => loss(x.map((v, i) => v + s * (u[i] as number)));
    const g = nesEstimate([u], [at(sigma)], [at(-sigma)], sigma);
    const central = (at(sigma) - at(-sigma)) / (2 * sigma);
    g.forEach((v, i) => assert.ok(Math.abs(v - central * (u[i] as number)) < 1e-12, `component ${i}`));
    // And the directional derivative it approximates: grad L . u.
    const grad = [x[0]! + x[1]!, 4 * x[1]! + x[0]!, -2 * x[2]!];
    const directional = grad.reduce((sum, gi, i) => sum + gi * (u[i] as number), 0);
    assert.ok(Math.abs(central - directional) < 1e-6, `${central} vs ${directional}`);
  });

  describe('on a linear softmax target', () => {
    const t = useLinearTarget(24, 5);
    // The largest request each sends for one image: a success ends the image within it.
    const batches: Record<string, number> = {
      nes: 50,
      'sign-hunter': 1,
      'bandits-td': 2,
      'zo-sign-sgd': 31,
      parsimonious: 100,
    };
    for (const [attack, batch] of Object.entries(batches)) {
      it(`${attack} fools most images within 400 queries at eps 0.1 and stops querying each once fooled`, async () => {
        const oracle = t.target('probabilities').withImageBudget(400);
        const outcome = await runQueryAttack({
          attack,
          oracle,
          images: t.images,
          labels: t.labels,
          ids: t.ids,
          eps: 0.1,
          norm: 'linf',
          seed: 2,
        });
        const fooled = outcome.images.filter((i) => i.success);
        assert.ok(fooled.length >= 18, `${fooled.length} of 24 fooled`);
        for (const image of fooled)
          assert.ok(
            image.queries - (image.queriesToSuccess as number) < batch,
            `image ${image.id}: ${image.queries} queries`,
          );
      });
    }
  });
});
