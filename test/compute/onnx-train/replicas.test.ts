import assert from 'node:assert/strict';
import type { Worker } from 'node:worker_threads';
import type * as tf from '@tensorflow/tfjs';
import { ARCHITECTURES, buildArchitecture } from '../../../src/compute/architectures.js';
import { useBackend } from '../../../src/compute/backend.js';
import { Random } from '../../../src/common/random.js';
import { optimizerSettings } from '../../../src/compute/onnx-train/optimizer.js';
import { ReplicaTrainer } from '../../../src/compute/onnx-train/replicas.js';
import { trainingGraph } from '../../../src/compute/onnx-train/graph.js';
import { splitsIntoReplicas } from '../../../src/compute/onnx-train/train.js';
import { OnnxTrainer, type StepBatch, type TrainerOptions } from '../../../src/compute/onnx-train/trainer.js';
import { outputKindOf } from '../../../src/compute/train.js';
import { loadEmbeddedMnist, stratifiedSplit } from '../../../src/data/index.js';
import { NETWORKS } from './networks.js';

const SHAPE = [28, 28, 1] as const;
const hasBatchNorm = (model: tf.LayersModel) => model.layers.some((l) => l.getClassName() === 'BatchNormalization');

describe('onnxruntime training on replicas (--train-threads > 1)', () => {
  const { train } = stratifiedSplit(loadEmbeddedMnist(), 0.2, 0);

  before(async () => {
    await useBackend('wasm');
  });

  const options = (model: tf.LayersModel, threads: number): TrainerOptions => ({
    loss: outputKindOf(model) === 'log-probabilities' ? 'detector' : 'softmax-cross-entropy',
    classes: 10,
    optimizer: optimizerSettings('adam', 1e-3),
    threads,
    optimizerInGraph: false,
  });

  /** n digits with uneven loss weights and a real dropout mask, so a wrong split of any input shows. */
  const batchFor = (trainer: OnnxTrainer, n: number): StepBatch => {
    const random = new Random(3);
    const targets = new Float32Array(n * 10);
    for (let i = 0; i < n; i++) targets[i * 10 + (train.labels[i] as number)] = 1;
    const sampleWeights = Float32Array.from({ length: n }, (_, i) => (i + 1) / ((n * (n + 1)) / 2));
    const masks = trainer.masks.map((m) =>
      Float32Array.from({ length: n * m.shape.reduce((a, b) => a * b, 1) }, () =>
        random.next() >= m.rate ? 1 / (1 - m.rate) : 0,
      ),
    );
    return { count: n, images: train.images.subarray(0, n * 784), targets, sampleWeights, masks };
  };

  const networks: [string, () => tf.Sequential][] = [
    ...ARCHITECTURES.names().map(
      (name) =>
        [name, () => buildArchitecture(name, { imageShape: SHAPE, classes: 10, seed: 1 }) as tf.Sequential] as [
          string,
          () => tf.Sequential,
        ],
    ),
    ...Object.entries(NETWORKS).map(([name, build]) => [name, () => build(1)] as [string, () => tf.Sequential]),
  ];
  for (const [name, build] of networks) {
    it(
      `${name}: the replicas' summed gradients equal one session's ` +
        `on the same batch (7 rows over 2 replicas, 1 row over 3)`,
      async () => {
        const model = build();
        try {
          if (hasBatchNorm(model)) {
            assert.equal(
              splitsIntoReplicas(await trainingGraph(model as tf.Sequential), { threads: 2, optimizerInGraph: false }),
              false,
              'BatchNorm trains on one session',
            );
            await assert.rejects(
              ReplicaTrainer.create(await trainingGraph(model as tf.Sequential), options(model, 2)),
              /BatchNormalization in training mode needs the whole batch/,
            );
            return;
          }
          // Dense-only networks keep one session in training (too little arithmetic per weight to split), but split
          // alike.
          const convolutional = model.layers.some((l) => l.getClassName().includes('Conv'));
          assert.equal(
            splitsIntoReplicas(await trainingGraph(model as tf.Sequential), { threads: 2, optimizerInGraph: false }),
            convolutional,
          );
          assert.equal(
            splitsIntoReplicas(await trainingGraph(model as tf.Sequential), { threads: 1, optimizerInGraph: false }),
            false,
          );
          const single = await OnnxTrainer.create(await trainingGraph(model as tf.Sequential), options(model, 1));
          try {
            for (const [rows, replicas] of [
              [7, 2],
              [1, 3],
            ] as const) {
              const replicated = await ReplicaTrainer.create(
                await trainingGraph(model as tf.Sequential),
                options(model, replicas),
              );
              try {
                const batch = batchFor(single, rows);
                const expected = await single.gradients(batch);
                const got = await replicated.gradients(batch);
                assert.ok(
                  Math.abs(got.loss - expected.loss) <= 1e-5 * Math.max(1, Math.abs(expected.loss)),
                  `loss ${got.loss} vs ${expected.loss}`,
                );
                expected.gradients.forEach((e, k) => {
                  const g = got.gradients[k] as Float32Array;
                  let worst = 0;
                  for (let i = 0; i < e.length; i++)
                    worst = Math.max(
                      worst,
                      Math.abs((g[i] as number) - (e[i] as number)) / Math.max(1, Math.abs(e[i] as number)),
                    );
                  assert.ok(
                    worst <= 1e-5,
                    `${rows} rows over ${replicas} replicas, weight ${k}: max difference ${worst}`,
                  );
                });
              } finally {
                await replicated.dispose();
              }
            }
          } finally {
            await single.dispose();
          }
        } finally {
          model.dispose();
        }
      },
    );
  }

  it('steps the weights as one session does, and writes them back into the tfjs model', async () => {
    const build = () => buildArchitecture('cnn-small', { imageShape: SHAPE, classes: 10, seed: 2 });
    const [a, b] = [build(), build()];
    const single = await OnnxTrainer.create(await trainingGraph(a), options(a, 1));
    const replicated = await ReplicaTrainer.create(await trainingGraph(b), options(b, 2));
    try {
      const before = b.getWeights().map((w) => w.dataSync().slice());
      for (let s = 0; s < 3; s++) {
        const batch = batchFor(single, 16);
        await single.step(batch);
        await replicated.step(batch);
      }
      single.writeBack();
      replicated.writeBack();
      const [wa, wb] = [a.getWeights(), b.getWeights()];
      wb.forEach((w, i) => {
        const [x, y] = [(wa[i] as tf.Tensor).dataSync(), w.dataSync()];
        let worst = 0;
        for (let k = 0; k < x.length; k++) worst = Math.max(worst, Math.abs((x[k] as number) - (y[k] as number)));
        // Adam's first steps move each weight by about lr (1e-3) whatever the gradient's size.
        assert.ok(worst <= 1e-5, `weight ${i}: max |difference| ${worst}`);
        assert.ok(
          y.some((v, k) => v !== (before[i] as Float32Array)[k]),
          `weight ${i} moved`,
        );
      });
    } finally {
      await Promise.all([single.dispose(), replicated.dispose()]);
      a.dispose();
      b.dispose();
    }
  });

  it('refuses to step once a replica has ended, instead of waiting for its answer', async () => {
    const model = buildArchitecture('cnn-small', { imageShape: SHAPE, classes: 10, seed: 1 });
    const replicated = await ReplicaTrainer.create(await trainingGraph(model as tf.Sequential), options(model, 2));
    try {
      // As if the thread had been killed (out of memory, a native abort).
      await (replicated as unknown as { workers: Worker[] }).workers[0]?.terminate();
      const n = 4;
      const targets = new Float32Array(n * 10).fill(0.1);
      await assert.rejects(
        replicated.step({
          count: n,
          images: train.images.subarray(0, n * 784),
          targets,
          sampleWeights: new Float32Array(n).fill(1 / n),
          masks: [],
        }),
        /1 of 2 training replicas have ended/,
      );
    } finally {
      await replicated.dispose();
      model.dispose();
    }
  });

  it('reports a replica that fails, naming it, instead of waiting for it', async () => {
    const model = buildArchitecture('model-b', { imageShape: SHAPE, classes: 10, seed: 1 });
    const replicated = await ReplicaTrainer.create(await trainingGraph(model as tf.Sequential), options(model, 2));
    try {
      const n = 4;
      const targets = new Float32Array(n * 10).fill(0.1);
      // A dropout mask one row short: the second replica's share cannot be shaped.
      const masks = replicated.masks.map((m) => new Float32Array((n - 1) * m.shape.reduce((a, b) => a * b, 1)).fill(1));
      await assert.rejects(
        replicated.step({
          count: n,
          images: train.images.subarray(0, n * 784),
          targets,
          sampleWeights: new Float32Array(n).fill(1 / n),
          masks,
        }),
        /training replica|size|length/i,
      );
    } finally {
      await replicated.dispose();
      model.dispose();
    }
  });
});
