#!/usr/bin/env node
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { buildArchitecture } from '../src/compute/architectures.js';
import { useBackend } from '../src/compute/backend.js';
import { buildGradientModel, buildLogitsModel, GRADIENT_IO } from '../src/compute/onnx-gradient/index.js';
import type { OnnxModelDescription } from '../src/compute/onnx-gradient/index.js';
import { loadTarget } from '../src/targets/descriptor.js';
import { gradientDescriptionOf } from '../src/targets/onnx/gradient-description.js';
import { exportToOnnx } from '../src/targets/onnx/export.js';
import { MODEL_C_DESCRIPTION, median } from './measure.js';

/**
 * Where the generated gradient graph spends its time against the forward graph (issue 27), not part of
 * `npm run bench:perf`:
 *
 *   node dist/perf/gradient-profile.js --model model-c|DESCRIPTOR --out DIR [--threads N] [--batch N] [--runs N]
 *     writes DIR/gradient.onnx and DIR/logits.onnx, runs each with onnxruntime's profiler and prints the time per
 *     operator type and the slowest nodes of both;
 *   node dist/perf/gradient-profile.js --compare A.onnx B.onnx ... --model ... [--threads N] [--rounds N]
 *     times gradient models side by side (one run of each in turn, every round), the medians and their ratio to A.
 */
const MODEL_C = MODEL_C_DESCRIPTION;

async function loadModel(model: string): Promise<{ bytes: Uint8Array; description: OnnxModelDescription }> {
  if (model !== 'model-c') {
    const target = loadTarget(model);
    return { bytes: readFileSync(target.modelPath), description: gradientDescriptionOf(target.descriptor) };
  }
  await useBackend('wasm');
  const net = buildArchitecture('model-c', { imageShape: [28, 28, 1], classes: 10, seed: 0 });
  const bytes = exportToOnnx(net);
  net.dispose();
  return { bytes, description: MODEL_C };
}

function options(threads: number, profilePrefix?: string): ort.InferenceSession.SessionOptions {
  return {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' } } },
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
  };
}

function feeds(description: OnnxModelDescription, batch: number, withLabels: boolean): Record<string, ort.Tensor> {
  const [a, b, c] = description.inputShape;
  const size = a * b * c;
  const images = Float32Array.from({ length: batch * size }, (_, i) => ((i * 7919) % 1000) / 1000);
  const [h, w, ch] = description.layout === 'NHWC' ? [a, b, c] : [b, c, a];
  const out: Record<string, ort.Tensor> = {
    [GRADIENT_IO.images]: new ort.Tensor('float32', images, [batch, h, w, ch]),
  };
  if (withLabels)
    out[GRADIENT_IO.labels] = new ort.Tensor(
      'int32',
      Int32Array.from({ length: batch }, (_, i) => i % description.classes),
      [batch],
    );
  return out;
}

interface NodeEvent {
  readonly cat: string;
  readonly name: string;
  readonly dur: number;
  readonly args?: { readonly op_name?: string };
}

/** Runs `bytes` `runs` times under the profiler; microseconds per run by node and by operator type. */
async function profile(
  bytes: Uint8Array,
  input: Record<string, ort.Tensor>,
  setup: { threads: number; runs: number; dir: string },
  tag: string,
) {
  const { threads, runs, dir } = setup;
  const prefix = join(dir, `profile-${tag}`);
  const session = await ort.InferenceSession.create(bytes, options(threads, prefix));
  for (let i = 0; i < runs + 2; i++) await session.run(input);
  session.endProfiling();
  await session.release();
  const file = readdirSync(dir)
    .filter((f) => f.startsWith(`profile-${tag}`) && f.endsWith('.json'))
    .sort()
    .pop() as string;
  const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as NodeEvent[];
  const byNode = new Map<string, { op: string; us: number }>();
  let total = 0;
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    const entry = byNode.get(name) ?? { op: e.args?.op_name ?? '?', us: 0 };
    entry.us += e.dur;
    byNode.set(name, entry);
    total += e.dur;
  }
  // Two warm-up runs are in the trace as well; per run over all of them.
  const perRun = runs + 2;
  const byOp = new Map<string, { us: number; nodes: number }>();
  for (const { op, us } of byNode.values()) {
    const entry = byOp.get(op) ?? { us: 0, nodes: 0 };
    entry.us += us;
    entry.nodes++;
    byOp.set(op, entry);
  }
  return { total: total / perRun, byNode, byOp, perRun };
}

function report(label: string, p: Awaited<ReturnType<typeof profile>>, top: number): void {
  process.stdout.write(`\n== ${label}: ${(p.total / 1000).toFixed(1)} ms of kernels per run\n`);
  for (const [op, { us, nodes }] of [...p.byOp].sort((a, b) => b[1].us - a[1].us)) {
    const ms = (us / p.perRun / 1000).toFixed(2).padStart(8);
    const share = ((100 * us) / p.perRun / p.total).toFixed(1).padStart(5);
    process.stdout.write(`  ${op.padEnd(22)} ${ms} ms  ${share}%  ${nodes} nodes\n`);
  }
  process.stdout.write('  slowest nodes:\n');
  for (const [name, { op, us }] of [...p.byNode].sort((a, b) => b[1].us - a[1].us).slice(0, top))
    process.stdout.write(`  ${(us / p.perRun / 1000).toFixed(2).padStart(8)} ms  ${op.padEnd(18)} ${name}\n`);
}

async function compare(files: string[], input: Record<string, ort.Tensor>, threads: number, rounds: number) {
  const sessions = await Promise.all(
    files.map(async (f) => ort.InferenceSession.create(readFileSync(f), options(threads))),
  );
  const times: number[][] = files.map(() => []);
  for (const s of sessions) for (let i = 0; i < 2; i++) await s.run(input);
  for (let r = 0; r < rounds; r++) {
    for (const [i, s] of sessions.entries()) {
      const start = performance.now();
      await s.run(input);
      times[i]?.push(performance.now() - start);
    }
  }
  const base = median(times[0] as number[]);
  for (const [i, f] of files.entries()) {
    const m = median(times[i] as number[]);
    process.stdout.write(`${f}: median ${m.toFixed(1)} ms, ${(base / m).toFixed(3)}x the speed of the first\n`);
  }
  for (const s of sessions) await s.release();
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      model: { type: 'string', default: 'model-c' },
      out: { type: 'string', default: '/tmp/transferbench-gradient-profile' },
      threads: { type: 'string', default: '1' },
      batch: { type: 'string', default: '256' },
      rounds: { type: 'string', default: '15' },
      runs: { type: 'string', default: '10' },
      top: { type: 'string', default: '25' },
      compare: { type: 'boolean', default: false },
    },
  });
  const threads = Number(values.threads);
  const batch = Number(values.batch);
  process.stdout.write(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  const { bytes, description } = await loadModel(values.model);
  if (values.compare) {
    await compare(positionals, feeds(description, batch, true), threads, Number(values.rounds));
    return;
  }
  mkdirSync(values.out, { recursive: true });
  const gradient = await buildGradientModel(bytes, description, { loss: 'cross-entropy' });
  const logits = await buildLogitsModel(bytes, description);
  writeFileSync(join(values.out, 'gradient.onnx'), gradient);
  writeFileSync(join(values.out, 'logits.onnx'), logits);
  const setup = { threads, runs: Number(values.runs), dir: values.out };
  const g = await profile(gradient, feeds(description, batch, true), setup, 'gradient');
  const f = await profile(logits, feeds(description, batch, false), setup, 'logits');
  report('logits (forward)', f, Number(values.top));
  report('gradient', g, Number(values.top));
  process.stdout.write(`\ngradient / forward kernel time: ${(g.total / f.total).toFixed(2)}\n`);
  process.stdout.write(
    `load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`gradient-profile: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
