import assert from 'node:assert/strict';
import type * as tf from '@tensorflow/tfjs';
import { trainModel, type EngineInfo } from '../../../src/compute/engine.js';
import type { TrainingSet } from '../../../src/compute/train.js';

/** Trains `build()` one epoch with seeds 5, 5 and 6: the first two must agree bit for bit, the third not. */
export async function assertSeededRunsRepeat(
  build: () => tf.LayersModel,
  set: TrainingSet,
  engine: EngineInfo,
): Promise<void> {
  const weightsAfter = async (seed: number) => {
    const model = build();
    await trainModel(model, set, { epochs: 1, batchSize: 32, learningRate: 1e-3, seed }, engine);
    const values = model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    model.dispose();
    return values;
  };
  const first = await weightsAfter(5);
  const again = await weightsAfter(5);
  const other = await weightsAfter(6);
  first.forEach((w, i) =>
    assert.deepEqual(
      Buffer.from(w.buffer),
      Buffer.from((again[i] as Float32Array).buffer),
      `weight ${i} differs between two runs of seed 5`,
    ),
  );
  assert.ok(
    first.some((w, i) => w.some((v, k) => v !== (other[i] as Float32Array)[k])),
    'seed 6 trains different weights',
  );
}
