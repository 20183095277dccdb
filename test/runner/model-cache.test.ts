import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateAdversarial } from '../../src/attacks/advgan/generator.js';
import { buildGenerator, GENERATOR, generatorNetwork } from '../../src/attacks/advgan/networks.js';
import { generate } from '../../src/attacks/advgan/steps.js';
import { useBackend } from '../../src/compute/backend.js';
import { initializerValues } from '../../src/compute/network/network.js';
import { saveTfjs } from '../../src/compute/persist.js';
import { directoryModelCache } from '../../src/runner/model-cache.js';
import { tempDir } from '../fixtures/files.js';

const SHAPE = [8, 8, 1] as const;
const EXPECTED = { architecture: GENERATOR, engine: 'onnxruntime' } as const;
const KEY = { params: { epochs: 1 } };
const images = Float32Array.from({ length: 4 * 64 }, (_, i) => (i % 17) / 16);

/** A cache over a fresh folder, the generator saved into it, and that generator's folder. */
async function savedGenerator(seed: number) {
  const root = tempDir('transferbench-model-cache-');
  const cache = directoryModelCache(root, 'advgan-test', { substitute: 'x' }, true);
  const network = generatorNetwork(SHAPE, seed);
  await cache.save(KEY, network, 'onnxruntime');
  const [folder] = readdirSync(root);
  return { cache, network, dir: join(root, folder as string) };
}

describe('directoryModelCache', () => {
  before(async () => {
    await useBackend('wasm');
  });

  it('stores a generator as model.onnx with a manifest naming its architecture, engine and sha256', async () => {
    const { cache, network, dir } = await savedGenerator(1);
    assert.deepEqual(readdirSync(dir).sort(), ['model.onnx', 'network.json']);
    const manifest = JSON.parse(readFileSync(join(dir, 'network.json'), 'utf8'));
    assert.equal(manifest.architecture, GENERATOR);
    assert.equal(manifest.engine, 'onnxruntime');
    assert.match(manifest.sha256, /^[0-9a-f]{16}$/);
    const loaded = await cache.load(KEY, EXPECTED);
    assert.ok(loaded !== undefined);
    assert.deepEqual(
      await generateAdversarial(loaded, images, 4, 0.3),
      await generateAdversarial(network, images, 4, 0.3),
    );
  });

  it('loads nothing for an unknown key or with the cache off', async () => {
    const { cache, dir } = await savedGenerator(1);
    assert.equal(await cache.load({ params: { epochs: 2 } }, EXPECTED), undefined);
    const off = directoryModelCache(join(dir, '..'), 'advgan-test', { substitute: 'x' }, false);
    assert.equal(await off.load(KEY, EXPECTED), undefined);
  });

  it('converts a folder of an old tfjs generator in place: its weights bit for bit, its images (<= 2e-5)', async () => {
    const { cache, dir } = await savedGenerator(1);
    rmSync(join(dir, 'model.onnx'));
    rmSync(join(dir, 'network.json'));
    const old = buildGenerator(SHAPE, 7);
    try {
      await saveTfjs(old, dir);
      const converted = await cache.load(KEY, EXPECTED);
      assert.ok(converted !== undefined);
      assert.ok(existsSync(join(dir, 'model.onnx')) && existsSync(join(dir, 'network.json')), 'written in place');
      assert.deepEqual(
        converted.trainable.map((name) => Buffer.from(initializerValues(converted.graph, name).values.buffer)),
        old.getWeights().map((w) => Buffer.from((w.dataSync() as Float32Array).buffer)),
        'the same weights, bit for bit',
      );
      const ours = await generateAdversarial(converted, images, 4, 0.3);
      const reference = tf.tidy(() => generate(old, tf.tensor4d(images, [4, ...SHAPE]), 0.3));
      let worst = 0;
      reference.dataSync().forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (ours[i] as number)))));
      reference.dispose();
      assert.ok(worst <= 2e-5, `max |difference| ${worst}`);
      const reloaded = await cache.load(KEY, EXPECTED);
      assert.ok(reloaded !== undefined);
      assert.deepEqual(await generateAdversarial(reloaded, images, 4, 0.3), ours);
    } finally {
      old.dispose();
    }
  });

  it('refuses a folder whose manifest names another engine, with the line that fixes it', async () => {
    const { cache, dir } = await savedGenerator(1);
    const path = join(dir, 'network.json');
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), engine: 'tfjs' }));
    await assert.rejects(cache.load(KEY, EXPECTED), {
      message: `${path}: engine tfjs, expected onnxruntime; remove the folder`,
    });
  });

  it('refuses a model.onnx that differs from the sha256 it was saved with', async () => {
    const { cache, dir } = await savedGenerator(1);
    const other = await savedGenerator(2);
    writeFileSync(join(dir, 'model.onnx'), readFileSync(join(other.dir, 'model.onnx')));
    await assert.rejects(
      cache.load(KEY, EXPECTED),
      /model\.onnx: sha256 [0-9a-f]{16} differs from the [0-9a-f]{16} it was saved with; remove the folder/,
    );
  });
});
