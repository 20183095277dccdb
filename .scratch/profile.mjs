import * as ort from 'onnxruntime-node';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { buildArchitecture } from '/work/wt/taps/dist/src/compute/architectures.js';
import { exportToOnnx } from '/work/wt/taps/dist/src/targets/onnx/export.js';
import { buildGradientModel, buildLogitsModel } from '/work/wt/taps/dist/src/compute/onnx-gradient/index.js';
const which = process.argv[2] ?? 'model-c';
const shape = which === 'model-c' ? [28, 28, 1] : [32, 32, 3];
const model = buildArchitecture(which, { imageShape: shape, classes: 10, seed: 1 });
const bytes = exportToOnnx(model); model.dispose();
const d = { inputName: 'input', outputName: 'logits', layout: 'NHWC', inputShape: shape, inputRange: [0, 1], normalization: { mean: [0], std: [1] }, outputKind: 'logits', classes: 10 };
const batch = 256, size = shape.reduce((a, b) => a * b);
const images = Float32Array.from({ length: batch * size }, (_, i) => (i * 7919 % 1000) / 1000);
const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
for (const kind of ['logits', 'gradient']) {
  const m = kind === 'logits' ? await buildLogitsModel(bytes, d) : await buildGradientModel(bytes, d, { loss: 'cross-entropy' });
  const s = await ort.InferenceSession.create(m, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all', enableProfiling: true, profileFilePrefix: `/tmp/taps/prof-${which}-${kind}`, extra: { session: { intra_op: { allow_spinning: '0' } } } });
  const feeds = { images: new ort.Tensor('float32', images, [batch, ...shape]) };
  if (kind === 'gradient') feeds.labels = new ort.Tensor('int32', labels, [batch]);
  await s.run(feeds);
  const t0 = performance.now(); const n = 5;
  for (let i = 0; i < n; i++) await s.run(feeds);
  console.log(which, kind, ((performance.now() - t0) / n).toFixed(1), 'ms/batch');
  s.endProfiling(); await s.release();
  const name = readdirSync('/tmp/taps').find((f) => f.startsWith(`prof-${which}-${kind}`));
  const file = `/tmp/taps/${name}`;
  const events = JSON.parse(readFileSync(file, 'utf8'));
  const byOp = new Map();
  for (const e of events) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) {
    const key = e.args.op_name; byOp.set(key, (byOp.get(key) ?? 0) + e.dur);
  }
  const total = [...byOp.values()].reduce((a, b) => a + b, 0);
  console.log([...byOp].sort((a, b) => b[1] - a[1]).slice(0, 14).map(([k, v]) => `${k} ${(100 * v / total).toFixed(1)}%`).join(', '));
  const byNode = new Map();
  for (const e of events) if (e.cat === 'Node' && e.name.endsWith('_kernel_time')) byNode.set(e.name, (byNode.get(e.name) ?? 0) + e.dur);
  console.log([...byNode].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${k.replace('_kernel_time','')} ${(100 * v / total).toFixed(1)}%`).join('\n'));
  rmSync(file);
}
