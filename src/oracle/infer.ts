import * as ort from 'onnxruntime-node';
import { defendedInputs, voteShares } from './defences/registry.js';
import { testDeath } from './fault-hook.js';
import type { InferenceResult, InferenceTask } from './messages.js';

/** Sessions kept per worker, keyed by the model's sha256 (least recently used goes first). */
const MAX_SESSIONS = 4;
const sessions = new Map<string, Promise<ort.InferenceSession>>();

function session(task: InferenceTask): Promise<ort.InferenceSession> {
  const cached = sessions.get(task.sha256);
  if (cached) {
    sessions.delete(task.sha256);
    sessions.set(task.sha256, cached);
    return cached;
  }
  testDeath('load');
  const created = ort.InferenceSession.create(task.modelPath, {
    intraOpNumThreads: task.intraOpThreads,
    interOpNumThreads: 1,
  });
  created.catch(() => sessions.delete(task.sha256));
  sessions.set(task.sha256, created);
  while (sessions.size > MAX_SESSIONS) {
    const oldest = sessions.keys().next().value as string;
    void sessions
      .get(oldest)
      ?.then((s) => s.release())
      .catch(() => undefined);
    sessions.delete(oldest);
  }
  return created;
}

/** NHWC [0,1] pixels -> the model's layout, range and per-channel normalisation. */
function prepare(task: InferenceTask): Float32Array {
  const [a, b, c] = task.inputShape as [number, number, number];
  const [h, w, channels] = task.layout === 'NHWC' ? [a, b, c] : [b, c, a];
  const size = h * w * channels;
  if (task.images.length !== task.count * size) {
    throw new Error(
      `got ${task.images.length / task.count} values per image, the model takes ${task.inputShape.join('x')} (${size})`,
    );
  }
  const [lo, hi] = task.inputRange;
  const scale = hi - lo;
  const out = new Float32Array(task.images.length);
  const mean = (k: number) => (task.mean.length === 1 ? task.mean[0] : task.mean[k]) as number;
  const std = (k: number) => (task.std.length === 1 ? task.std[0] : task.std[k]) as number;
  const identity =
    task.layout === 'NHWC' && lo === 0 && hi === 1 && task.mean.every((m) => m === 0) && task.std.every((s) => s === 1);
  if (identity) return task.images;
  for (let n = 0; n < task.count; n++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        for (let k = 0; k < channels; k++) {
          const v = ((task.images[((n * h + y) * w + x) * channels + k] as number) * scale + lo - mean(k)) / std(k);
          const target =
            task.layout === 'NHWC' ? ((n * h + y) * w + x) * channels + k : ((n * channels + k) * h + y) * w + x;
          out[target] = v;
        }
      }
    }
  }
  return out;
}

function imageShapeOf(task: InferenceTask): [number, number, number] {
  const [a, b, c] = task.inputShape as [number, number, number];
  return task.layout === 'NHWC' ? [a, b, c] : [b, c, a];
}

/** Model inputs per session run: a smoothing defence's copies of a batch would not fit at once. */
const RUN_CHUNK = 1024;

/** The model's outputs for every image of the task, run RUN_CHUNK images at a time and concatenated. */
async function runModel(s: ort.InferenceSession, task: InferenceTask): Promise<ort.InferenceSession.OnnxValueMapType> {
  const input = prepare(task);
  if (task.count <= RUN_CHUNK)
    return s.run({ [task.inputName]: new ort.Tensor('float32', input, [task.count, ...task.inputShape]) });
  const size = input.length / task.count;
  const parts: Float32Array[] = [];
  for (let start = 0; start < task.count; start += RUN_CHUNK) {
    const n = Math.min(RUN_CHUNK, task.count - start);
    const feed = new ort.Tensor('float32', input.subarray(start * size, (start + n) * size), [n, ...task.inputShape]);
    const out = (await s.run({ [task.inputName]: feed }))[task.outputName] as ort.Tensor;
    parts.push(out.data as Float32Array);
  }
  const all = new Float32Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return { [task.outputName]: new ort.Tensor('float32', all, [task.count, all.length / task.count]) };
}

function softmaxRows(values: Float32Array, classes: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < values.length / classes; r++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < classes; k++) max = Math.max(max, values[r * classes + k] as number);
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += out[r * classes + k] = Math.exp((values[r * classes + k] as number) - max);
    for (let k = 0; k < classes; k++) out[r * classes + k] = (out[r * classes + k] as number) / sum;
  }
  return out;
}

/**
 * Runs one batch; every failure comes back as data naming the model and the mismatch. The same
 * code serves a worker thread (worker.ts) and a pool process (pool-process.ts).
 */
export async function infer(task: InferenceTask): Promise<InferenceResult> {
  const where = `model ${task.modelName} (${task.modelPath})`;
  try {
    let s: ort.InferenceSession;
    try {
      s = await session(task);
    } catch (error) {
      return { ok: false, error: `${where} failed to load: ${(error as Error).message}` };
    }
    if (!s.inputNames.includes(task.inputName))
      return {
        ok: false,
        error:
          `${where}: input "${task.inputName}" not found; the model's inputs ` +
          `are ${s.inputNames.join(', ')} (fix inputName in target.json)`,
      };
    if (!s.outputNames.includes(task.outputName))
      return {
        ok: false,
        error:
          `${where}: output "${task.outputName}" not found; the model's ` +
          `outputs are ${s.outputNames.join(', ')} (fix outputName in target.json)`,
      };
    // The defence hook: the model sees the defended images (copies of each, for a vote), the caller one answer each.
    const defended = task.defence
      ? defendedInputs(task.defence, task.images, task.count, imageShapeOf(task))
      : undefined;
    const modelTask = defended ? { ...task, images: defended.images, count: task.count * defended.copies } : task;
    let outputs: ort.InferenceSession.OnnxValueMapType;
    testDeath('batch');
    try {
      outputs = await runModel(s, modelTask);
    } catch (error) {
      return {
        ok: false,
        error:
          `${where}: inference failed for input shape [${task.count}, ${task.inputShape.join(', ')}]: ` +
          // onnxruntime's whole message: its later lines name the dimension that differs.
          `${(error as Error).message.replace(/\s*\n\s*/g, ' ')}`,
      };
    }
    const output = outputs[task.outputName] as ort.Tensor;
    const values = output.data as Float32Array;
    const classes = values.length / modelTask.count;
    if (!Number.isInteger(classes) || classes < 2)
      return {
        ok: false,
        error:
          `${where}: output "${task.outputName}" has shape [${output.dims.join(', ')}], ` +
          `expected [${task.count}, classes]`,
      };
    for (let i = 0; i < values.length; i++) {
      if (!Number.isFinite(values[i] as number))
        return {
          ok: false,
          error:
            `${where}: output value ${i} (image ${Math.floor(i / classes)}) ` +
            `is ${values[i]}; the model produced NaN or infinite outputs`,
        };
    }
    const modelProbabilities =
      task.outputKind === 'logits'
        ? softmaxRows(values, classes)
        : task.outputKind === 'log-probabilities'
          ? values.map(Math.exp)
          : Float32Array.from(values);
    const probabilities = defended?.vote
      ? voteShares(modelProbabilities, task.count, defended.copies, classes)
      : modelProbabilities;
    return { ok: true, probabilities, classes };
  } catch (error) {
    return { ok: false, error: `${where}: ${(error as Error).message}` };
  }
}
