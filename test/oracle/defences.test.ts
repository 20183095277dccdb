import assert from 'node:assert/strict';
import jpeg from 'jpeg-js';
import { Random } from '../../src/common/random.js';
import {
  DEFENCES,
  defendedInputs,
  forwardPassesPerQuery,
  resolveDefence,
  voteShares,
} from '../../src/oracle/defences/registry.js';
import { medianFilter } from '../../src/oracle/defences/median.js';
import { resizeAndPad } from '../../src/oracle/defences/resize-pad.js';
import { OraclePool, TargetOracle } from '../../src/oracle/index.js';
import { loadTarget, type TargetDescriptor } from '../../src/targets/descriptor.js';
import { tempDir } from '../fixtures/files.js';
import { linearOnnxTarget, softmax, uniformImages } from './fixtures.js';

const argmax = (row: ArrayLike<number>) => {
  let best = 0;
  for (let k = 1; k < row.length; k++) if ((row[k] as number) > (row[best] as number)) best = k;
  return best;
};

describe('input defences behind the oracle', () => {
  const dir = tempDir('transferbench-defences-');
  const shape: [number, number, number] = [8, 8, 1];
  const size = 64;
  const classes = 4;
  const target = (name: string, defence?: TargetDescriptor['defence']) =>
    linearOnnxTarget(dir, {
      name,
      layout: 'NHWC',
      inputName: 'input',
      outputName: 'logits',
      h: 8,
      w: 8,
      c: 1,
      classes,
      ...(defence ? { descriptor: { defence } } : {}),
    });
  const plain = target('plain');
  let pool: OraclePool;
  before(() => {
    pool = new OraclePool({ workers: 1 });
  });
  after(async () => {
    await pool.close();
  });

  const ask = async (descriptorPath: string, images: Float32Array) => {
    const oracle = new TargetOracle(pool, loadTarget(descriptorPath), { mode: 'probabilities' });
    const answer = await oracle.query(images, 'evaluation');
    return { answer, usage: oracle.usage() };
  };
  const close = (a: Float32Array, b: Float32Array, tolerance = 1e-5) =>
    a.length === b.length && a.every((v, i) => Math.abs(v - (b[i] as number)) <= tolerance);
  const images = uniformImages(6, size, 3);

  it('jpeg: the model sees the images after a jpeg-js encode and decode at the quality', async () => {
    const defended = target('jpeg', { name: 'jpeg', params: { quality: 30 } });
    const reference = new Float32Array(images.length);
    for (let n = 0; n < 6; n++) {
      const rgba = new Uint8Array(size * 4);
      for (let i = 0; i < size; i++) {
        const v = Math.round((images[n * size + i] as number) * 255);
        rgba.set([v, v, v, 255], i * 4);
      }
      const decoded = jpeg.decode(jpeg.encode({ data: rgba, width: 8, height: 8 }, 30).data, { useTArray: true });
      for (let i = 0; i < size; i++) reference[n * size + i] = (decoded.data[i * 4] as number) / 255;
    }
    assert.ok(!close(reference, images, 1e-3), 'quality 30 changes the images');
    const { answer } = await ask(defended.descriptorPath, images);
    assert.ok(answer.probabilities && close(answer.probabilities, softmax(plain.logits(reference, 6), classes)));
  });

  it('bit-depth: values rounded to 2^bits levels', async () => {
    const defended = target('bits', { name: 'bit-depth', params: { bits: 1 } });
    const squeezed = images.map((v) => Math.round(v));
    const { answer } = await ask(defended.descriptorPath, images);
    assert.ok(answer.probabilities && close(answer.probabilities, softmax(plain.logits(squeezed, 6), classes)));
  });

  it('median: a hand-computed 3x3 image, edges repeated; size 1 leaves it alone', () => {
    const image = Float32Array.from([0.9, 0.1, 0.5, 0.2, 0.8, 0.3, 0.7, 0.4, 0.6]);
    const three = medianFilter(image, [3, 3, 1], 3);
    // Centre: median of all nine = 0.5; corner (0,0): window {0.9,0.9,0.1,0.9,0.9,0.1,0.2,0.2,0.8} -> 0.8.
    assert.ok(Math.abs((three[4] as number) - 0.5) < 1e-7);
    assert.ok(Math.abs((three[0] as number) - 0.8) < 1e-7);
    // Size 2 at (1,1): window rows 0..1, cols 0..1 = {0.9, 0.1, 0.2, 0.8}, upper median 0.8.
    assert.ok(Math.abs((medianFilter(image, [3, 3, 1], 2)[4] as number) - 0.8) < 1e-7);
    assert.deepEqual(medianFilter(image, [3, 3, 1], 1), image);
  });

  it('resize-pad: ratio 1 is the identity; otherwise a seeded draw per image, the same in any batch', () => {
    const one = images.subarray(0, size);
    assert.ok(close(resizeAndPad(one, shape, 1, new Random(1)), one, 1e-6));
    const spec = { name: 'resize-pad', params: { ratio: 1.5 }, seed: 4 };
    const all = defendedInputs(spec, images, 6, shape).images;
    const alone = defendedInputs(spec, images.slice(2 * size, 3 * size), 1, shape).images;
    assert.deepEqual(alone, all.subarray(2 * size, 3 * size));
    assert.ok(!close(all, images, 1e-3));
    const otherSeed = defendedInputs({ ...spec, seed: 5 }, images, 6, shape).images;
    assert.ok(!close(otherSeed, all, 1e-6), 'another seed draws other sizes and offsets');
  });

  it(
    'smoothing: the answer is the vote over n noisy copies (a direct ' + 'count), one query per image, n passes',
    async () => {
      const spec = { name: 'smoothing', params: { sigma: 0.5, samples: 25 }, seed: 9 };
      const defended = target('smoothed', spec);
      const { answer, usage } = await ask(defended.descriptorPath, images);
      const copies = defendedInputs(spec, images, 6, shape).images;
      const logits = plain.logits(copies, 6 * 25);
      for (let n = 0; n < 6; n++) {
        const votes = new Array(classes).fill(0);
        for (let j = 0; j < 25; j++)
          votes[argmax(logits.subarray((n * 25 + j) * classes, (n * 25 + j + 1) * classes))]++;
        for (let k = 0; k < classes; k++)
          assert.ok(Math.abs((answer.probabilities?.[n * classes + k] as number) - votes[k] / 25) < 1e-6);
        assert.equal(answer.labels[n], argmax(votes));
      }
      assert.equal(usage.byPurpose.evaluation, 6);
      assert.equal(usage.physicalInferences, 6);
      assert.equal(forwardPassesPerQuery(spec), 25);
      assert.equal(forwardPassesPerQuery(undefined), 1);
      // Deterministic under its seed: asked again, the same answer.
      assert.deepEqual((await ask(defended.descriptorPath, images)).answer.probabilities, answer.probabilities);
    },
  );

  it("smoothing with sigma 0 votes every copy for the plain model's class", () => {
    const probabilities = softmax(plain.logits(images, 6), classes);
    const tiled = new Float32Array(6 * 3 * classes);
    for (let n = 0; n < 6; n++)
      for (let j = 0; j < 3; j++)
        tiled.set(probabilities.subarray(n * classes, (n + 1) * classes), (n * 3 + j) * classes);
    const shares = voteShares(tiled, 6, 3, classes);
    for (let n = 0; n < 6; n++)
      assert.equal(shares[n * classes + argmax(probabilities.subarray(n * classes, (n + 1) * classes))], 1);
    const copies = defendedInputs({ name: 'smoothing', params: { sigma: 0, samples: 3 } }, images, 6, shape);
    assert.deepEqual(copies.images.subarray(0, size), images.subarray(0, size));
  });

  it('refuses an unknown defence or a bad parameter with one line naming the key, when the oracle is made', () => {
    const bad = target('bad-param', { name: 'jpeg', params: { quality: 0 } });
    assert.throws(
      () => new TargetOracle(pool, loadTarget(bad.descriptorPath), { mode: 'label' }),
      /defence\.params\.quality: got 0, expected an integer in \[1, 100\]$/,
    );
    assert.throws(
      () => resolveDefence({ name: 'blur' }, 'defence'),
      /unknown defence "blur"; known defences: jpeg, bit-depth/,
    );
    assert.throws(
      () => resolveDefence({ name: 'smoothing', params: { noise: 1 } }, 'x.defence'),
      /x\.defence\.params\.noise: got 1, expected a parameter of smoothing: sigma, samples/,
    );
    assert.deepEqual(DEFENCES.names(), ['jpeg', 'bit-depth', 'median', 'resize-pad', 'smoothing']);
  });

  it(
    "the attacker's side cannot reach the defence: nothing reachable from " +
      'its oracle holds its name, parameters or seed',
    async () => {
      const spec = { name: 'smoothing', params: { sigma: 0.123456, samples: 7 }, seed: 987654 };
      const defended = target('secret', spec);
      const oracle = new TargetOracle(pool, loadTarget(defended.descriptorPath), { mode: 'probabilities' });
      const answer = await oracle.query(images, 'evaluation');
      const budgeted = oracle.withImageBudget(10);
      const seen = new Set<unknown>();
      const found: string[] = [];
      const walk = (value: unknown, path: string, depth: number) => {
        if (value === null || (typeof value !== 'object' && typeof value !== 'function') || seen.has(value)) {
          if (value === 987654 || value === 0.123456 || value === 'smoothing' || value === defended.modelPath)
            found.push(path);
          return;
        }
        if (depth > 8) return;
        seen.add(value);
        for (const key of Reflect.ownKeys(value as object)) {
          if (key === 'defence') found.push(`${path}.defence`);
          let child: unknown;
          try {
            child = (value as Record<string | symbol, unknown>)[key];
          } catch {
            continue;
          }
          walk(child, `${path}.${String(key)}`, depth + 1);
        }
      };
      // The pool is the harness's, shared by every target, not the attacker's: the oracle's own fields and answers.
      seen.add(pool);
      walk(oracle, 'oracle', 0);
      walk(budgeted, 'budgeted', 0);
      walk(answer, 'answer', 0);
      assert.deepEqual(found, []);
    },
  );
});
