import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Random } from '../../src/common/random.js';
import { BudgetExceededError, OraclePool, TargetOracle } from '../../src/oracle/index.js';
import { loadTarget } from '../../src/targets/descriptor.js';
import { tempDir } from '../fixtures/files.js';
import { linearOnnxTarget, softmax, uniformImages } from './fixtures.js';

describe('oracle', () => {
  const dir = tempDir('transferbench-oracle-');
  const nhwc = linearOnnxTarget(dir, {
    name: 'nhwc',
    layout: 'NHWC',
    inputName: 'input',
    outputName: 'logits',
    h: 6,
    w: 6,
    c: 1,
    classes: 4,
  });
  const foreign = linearOnnxTarget(dir, {
    name: 'torch-style',
    layout: 'NCHW',
    inputName: 'pixels',
    outputName: 'scores',
    h: 5,
    w: 5,
    c: 3,
    classes: 3,
  });
  let pool: OraclePool;

  before(() => {
    pool = new OraclePool({ workers: 2 });
  });
  after(async () => {
    await pool.close();
  });

  const close = (a: Float32Array, b: Float32Array, tolerance = 1e-5) =>
    a.length === b.length && a.every((v, i) => Math.abs(v - (b[i] as number)) <= tolerance);

  it('answers probabilities that match the model (softmax of its logits)', async () => {
    const oracle = new TargetOracle(pool, loadTarget(nhwc.descriptorPath), { mode: 'probabilities' });
    const images = uniformImages(50, 36, 1);
    const answer = await oracle.query(images, 'evaluation');
    assert.ok(answer.probabilities && close(answer.probabilities, softmax(nhwc.logits(images, 50), 4)));
  });

  it(
    'reads log-probabilities per class with exp, without renormalising (an ' + "RBF target's own confidences)",
    async () => {
      const logProbabilities = linearOnnxTarget(dir, {
        name: 'log-p',
        layout: 'NHWC',
        inputName: 'input',
        outputName: 'logits',
        h: 6,
        w: 6,
        c: 1,
        classes: 4,
        descriptor: { outputKind: 'log-probabilities' },
      });
      const oracle = new TargetOracle(pool, loadTarget(logProbabilities.descriptorPath), { mode: 'probabilities' });
      const images = uniformImages(30, 36, 4);
      const answer = await oracle.query(images, 'evaluation');
      const expected = logProbabilities.logits(images, 30).map(Math.exp);
      assert.ok(answer.probabilities && close(answer.probabilities, expected, 1e-4));
      assert.deepEqual(
        answer.labels,
        (await new TargetOracle(pool, loadTarget(nhwc.descriptorPath), { mode: 'label' }).query(images, 'evaluation'))
          .labels,
      );
    },
  );

  it('answers top-k (sorted, largest first) and label-only modes, revealing nothing more', async () => {
    const target = loadTarget(nhwc.descriptorPath);
    const images = uniformImages(20, 36, 2);
    const expected = softmax(nhwc.logits(images, 20), 4);
    const topK = await new TargetOracle(pool, target, { mode: 'top-k', topK: 2 }).query(images, 'evaluation');
    assert.equal(topK.probabilities, undefined);
    assert.equal(topK.topK?.k, 2);
    for (let r = 0; r < 20; r++) {
      const row = Array.from(expected.subarray(r * 4, r * 4 + 4));
      const sorted = [...row].sort((a, b) => b - a);
      assert.ok(Math.abs((topK.topK?.values[r * 2] as number) - (sorted[0] as number)) < 1e-5);
      assert.ok(Math.abs((topK.topK?.values[r * 2 + 1] as number) - (sorted[1] as number)) < 1e-5);
      assert.equal(topK.topK?.indices[r * 2], row.indexOf(sorted[0] as number));
    }
    const label = await new TargetOracle(pool, target, { mode: 'label' }).query(images, 'evaluation');
    assert.equal(label.probabilities, undefined);
    assert.equal(label.topK, undefined);
    assert.deepEqual(label.labels, topK.labels);
  });

  it('queries an NCHW foreign model with an unusual input name, range [0,255] and normalisation', async () => {
    const oracle = new TargetOracle(pool, loadTarget(foreign.descriptorPath), { mode: 'probabilities' });
    assert.deepEqual(oracle.imageShape, [5, 5, 3]);
    const images = uniformImages(40, 75, 3);
    const answer = await oracle.query(images, 'evaluation');
    assert.ok(answer.probabilities && close(answer.probabilities, softmax(foreign.logits(images, 40), 3), 1e-4));
  });

  it('counts every image exactly and never exceeds the budget under many concurrent callers', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const random = new Random(trial);
      const budget = 300 + random.int(300);
      const oracle = new TargetOracle(pool, loadTarget(nhwc.descriptorPath), { mode: 'label', budget });
      const sizes = Array.from({ length: 25 }, () => 1 + random.int(60));
      const outcomes = await Promise.allSettled(
        sizes.map((n, i) =>
          oracle.query(uniformImages(n, 36, 100 + i), i % 3 === 0 ? 'evaluation' : 'substitute-training'),
        ),
      );
      let training = 0;
      let evaluation = 0;
      outcomes.forEach((o, i) => {
        if (o.status === 'fulfilled') {
          assert.equal(o.value.count, sizes[i]);
          if (i % 3 === 0) evaluation += sizes[i] as number;
          else training += sizes[i] as number;
        } else {
          assert.ok(o.reason instanceof BudgetExceededError, String(o.reason));
          assert.notEqual(i % 3, 0, 'evaluation queries are not limited by the attacker budget');
        }
      });
      const usage = oracle.usage();
      assert.equal(usage.byPurpose['substitute-training'], training);
      assert.equal(usage.byPurpose.evaluation, evaluation);
      assert.ok(training <= budget, `${training} > ${budget}`);
      assert.equal(usage.remaining, budget - training);
      assert.equal(usage.physicalInferences, training + evaluation);
    }
  });

  it('rejects a request that would cross the budget before running anything', async () => {
    const oracle = new TargetOracle(pool, loadTarget(nhwc.descriptorPath), { mode: 'label', budget: 10 });
    await oracle.query(uniformImages(8, 36, 4), 'substitute-training');
    await assert.rejects(
      oracle.query(uniformImages(3, 36, 5), 'substitute-training'),
      /query budget of target nhwc exceeded: 3 queries asked, 2 left; nothing was run/,
    );
    assert.equal(oracle.usage().byPurpose['substitute-training'], 8);
    assert.equal(oracle.usage().physicalInferences, 8);
  });

  it('refuses a buffer that is not whole images with its own code, before counting or running anything', async () => {
    const oracle = new TargetOracle(pool, loadTarget(nhwc.descriptorPath), { mode: 'label', budget: 10 });
    await assert.rejects(
      oracle.query(new Float32Array(36 * 2 + 5), 'substitute-training'),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'BAD_IMAGES');
        assert.equal(
          e.message,
          'target nhwc: got 77 values, not a whole number of 6x6x1 images (36 ' +
            "values each); pass NHWC images of the target's shape",
        );
        return true;
      },
    );
    assert.ok(
      Object.values(oracle.usage().byPurpose).every((n) => n === 0),
      'nothing was counted',
    );
    assert.equal(oracle.usage().physicalInferences, 0);
  });

  it('counts repeated images as queries but not as inferences when deduplicating', async () => {
    const oracle = new TargetOracle(pool, loadTarget(nhwc.descriptorPath), {
      mode: 'probabilities',
      deduplicate: true,
    });
    const one = uniformImages(1, 36, 6);
    const repeated = new Float32Array(36 * 5);
    for (let i = 0; i < 5; i++) repeated.set(one, i * 36);
    const answer = await oracle.query(repeated, 'substitute-training');
    await oracle.query(one, 'substitute-training');
    assert.equal(answer.count, 5);
    assert.equal(oracle.usage().byPurpose['substitute-training'], 6);
    assert.equal(oracle.usage().physicalInferences, 1);
  });

  it('recovers from a worker killed mid-request: answered once, counted once', async () => {
    const oracle = new TargetOracle(pool, loadTarget(nhwc.descriptorPath), { mode: 'probabilities' });
    const images = uniformImages(4000, 36, 7);
    const lost = pool.workersLost;
    const pending = oracle.query(images, 'evaluation');
    await pool.threads[0]?.terminate();
    const answer = await pending;
    assert.equal(pool.workersLost, lost + 1, 'a worker died and was replaced');
    assert.ok(answer.probabilities && close(answer.probabilities, softmax(nhwc.logits(images, 4000), 4)));
    assert.equal(oracle.usage().byPurpose.evaluation, 4000);
    const after = await oracle.query(uniformImages(10, 36, 8), 'evaluation');
    assert.equal(after.count, 10);
  });

  describe('errors name the model and the mismatch', () => {
    const variant = (name: string, extra: Parameters<typeof linearOnnxTarget>[1]['descriptor'], nanWeights = false) =>
      loadTarget(
        linearOnnxTarget(dir, {
          name,
          layout: 'NHWC',
          inputName: 'input',
          outputName: 'logits',
          h: 6,
          w: 6,
          c: 1,
          classes: 4,
          nanWeights,
          descriptor: extra,
        }).descriptorPath,
      );

    it('a wrong input name', async () => {
      const oracle = new TargetOracle(pool, variant('bad-input', { inputName: 'image' }), { mode: 'label' });
      await assert.rejects(
        oracle.query(uniformImages(2, 36, 9), 'evaluation'),
        /model bad-input .*: input "image" not found; the model's inputs are input/,
      );
    });

    it('a wrong output name', async () => {
      const oracle = new TargetOracle(pool, variant('bad-output', { outputName: 'probs' }), { mode: 'label' });
      await assert.rejects(
        oracle.query(uniformImages(2, 36, 9), 'evaluation'),
        /model bad-output .*: output "probs" not found; the model's outputs are logits/,
      );
    });

    it('a shape mismatch', async () => {
      const oracle = new TargetOracle(pool, variant('bad-shape', { inputShape: [5, 5, 1] }), { mode: 'label' });
      await assert.rejects(
        oracle.query(uniformImages(2, 25, 9), 'evaluation'),
        /model bad-shape .*: inference failed for input shape \[2, 5, 5, 1\]/,
      );
    });

    it('NaN outputs', async () => {
      const oracle = new TargetOracle(pool, variant('nan', {}, true), { mode: 'label' });
      await assert.rejects(
        oracle.query(uniformImages(2, 36, 9), 'evaluation'),
        /model nan .*: output value \d+ \(image 0\) is NaN; the model produced NaN or infinite outputs/,
      );
    });

    it('a model that fails to load', async () => {
      const target = variant('corrupt', {});
      writeFileSync(target.modelPath, 'not an onnx model');
      const oracle = new TargetOracle(
        pool,
        { ...target, descriptor: { ...target.descriptor, sha256: '0'.repeat(64) } },
        { mode: 'label' },
      );
      await assert.rejects(oracle.query(uniformImages(2, 36, 9), 'evaluation'), /model corrupt .* failed to load/);
    });

    it('a model whose sha256 differs from its descriptor is refused', () => {
      const target = linearOnnxTarget(dir, {
        name: 'changed',
        layout: 'NHWC',
        inputName: 'input',
        outputName: 'logits',
        h: 6,
        w: 6,
        c: 1,
        classes: 4,
      });
      writeFileSync(target.modelPath, Buffer.concat([Buffer.from('x')]));
      assert.throws(
        () => loadTarget(target.descriptorPath),
        /has sha256 [0-9a-f]{64}, the descriptor says [0-9a-f]{64}; the model changed since the descriptor was written/,
      );
    });

    it('a descriptor with a bad layout names the key and the allowed values', () => {
      const target = linearOnnxTarget(dir, {
        name: 'bad-layout',
        layout: 'NHWC',
        inputName: 'input',
        outputName: 'logits',
        h: 6,
        w: 6,
        c: 1,
        classes: 4,
        descriptor: { layout: 'NWHC' as 'NHWC' },
      });
      assert.throws(
        () => loadTarget(target.descriptorPath),
        /bad-layout.json: layout is "NWHC"; allowed: "NHWC", "NCHW"/,
      );
    });
  });

  it(
    'runs a large request in slices of at most maxChunk images (an ' +
      'onnxruntime arena keeps its largest batch), answers unchanged',
    async () => {
      const sliced = new OraclePool({ workers: 2, minChunk: 1, maxChunk: 16 });
      try {
        const target = loadTarget(nhwc.descriptorPath);
        const images = uniformImages(100, 36, 9);
        const answer = await new TargetOracle(sliced, target, { mode: 'probabilities' }).query(images, 'evaluation');
        assert.equal(sliced.runsCompleted, 7, 'ceil(100 / 16) runs');
        const whole = await new TargetOracle(pool, target, { mode: 'probabilities' }).query(images, 'evaluation');
        assert.deepEqual(answer.probabilities, whole.probabilities);
      } finally {
        await sliced.close();
      }
      assert.throws(() => new OraclePool({ maxChunk: 0 }), /oracle maxChunk: got 0, expected a positive integer/);
    },
  );

  it('closing the pool leaves no handle open: the process exits by itself', function () {
    this.timeout(60000);
    const script = `
      import { OraclePool, TargetOracle }
        from ${JSON.stringify(fileURLToPath(new URL('../../src/oracle/index.js', import.meta.url)))};
      import { loadTarget }
        from ${JSON.stringify(fileURLToPath(new URL('../../src/targets/descriptor.js', import.meta.url)))};
      const pool = new OraclePool({ workers: 2 });
      const oracle = new TargetOracle(pool, loadTarget(${JSON.stringify(nhwc.descriptorPath)}), { mode: 'label' });
      await oracle.query(new Float32Array(36 * 64).fill(0.5), 'evaluation');
      await pool.close();
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 30000,
      encoding: 'utf8',
    });
    assert.equal(run.signal, null, 'the process had to be killed: a handle stayed open');
    assert.equal(run.status, 0, run.stderr);
  });
});
