import * as ort from 'onnxruntime-node';
import { TransferbenchError } from '../common/errors.js';
import type { ResolvedTarget, TargetDescriptor } from './descriptor.js';
import { graphSignature, type TensorInfo } from './inspect.js';

/** One graph input or output: its name and dimensions (a symbolic one, such as the batch, undefined). */
interface GraphValue {
  readonly name: string;
  /** Undefined when the graph declares no shape. */
  readonly dims: readonly (number | undefined)[] | undefined;
}

function refuse(path: string, problem: string): TransferbenchError {
  return new TransferbenchError('BAD_CONFIG', `${path}: ${problem}`);
}

/** The graph's declared inputs and outputs (`targets inspect` reads the same), dims as numbers or undefined. */
function signatureOf(target: ResolvedTarget): { inputs: GraphValue[]; outputs: GraphValue[] } {
  const { inputs, outputs } = graphSignature(target.modelPath);
  const value = (t: TensorInfo): GraphValue => ({
    name: t.name,
    dims: t.shape.length === 0 ? undefined : t.shape.map((d) => (typeof d === 'number' && d > 0 ? d : undefined)),
  });
  return { inputs: inputs.map(value), outputs: outputs.map(value) };
}

/**
 * What the descriptor says against what the graph declares: the named input and output exist,
 * the input's static dimensions are the descriptor's `inputShape` in its layout, the output is
 * [batch, classes] with as many classes as `classNames`, and `topK`-style settings fit.
 */
function checkSignature(target: ResolvedTarget): void {
  const d = target.descriptor;
  const path = target.descriptorPath;
  const { inputs, outputs } = signatureOf(target);
  const input = inputs.find((v) => v.name === d.inputName);
  if (input === undefined)
    throw refuse(
      path,
      `inputName "${d.inputName}" is not an input of the model; it has ${inputs.map((v) => `"${v.name}"`).join(', ')}`,
    );
  const output = outputs.find((v) => v.name === d.outputName);
  if (output === undefined)
    throw refuse(
      path,
      `outputName "${d.outputName}" is not an output of the model; ` +
        `it has ${outputs.map((v) => `"${v.name}"`).join(', ')}`,
    );
  if (input.dims !== undefined) {
    const declared = input.dims.slice(1);
    const mismatch = input.dims.length !== 4 || declared.some((dim, i) => dim !== undefined && dim !== d.inputShape[i]);
    if (mismatch)
      throw refuse(
        path,
        `layout ${d.layout} with inputShape [${d.inputShape.join(', ')}], but the model's input ${input.name} is ` +
          `[${input.dims.map((x) => x ?? 'batch').join(', ')}]; give inputShape in the model's own layout ` +
          `(${d.layout === 'NHWC' ? '[H, W, C]' : '[C, H, W]'}) or fix "layout"`,
      );
  }
  if (output.dims !== undefined) checkOutputDims(path, d, output.dims);
}

function checkOutputDims(path: string, d: TargetDescriptor, dims: readonly (number | undefined)[]): void {
  if (dims.length !== 2)
    throw refuse(
      path,
      `the model's output ${d.outputName} is [${dims.map((x) => x ?? 'batch').join(', ')}]; ` +
        "a classifier's output must be [batch, classes]",
    );
  const width = dims[1];
  if (width !== undefined && width !== d.classNames.length)
    throw refuse(
      path,
      `classNames has ${d.classNames.length} entries, but the model outputs ${width} classes; give one name per output`,
    );
}

/** Two probe images: the low and the high end of the input range, normalised as the oracle's worker does. */
function probeInput(d: TargetDescriptor): Float32Array {
  const size = d.inputShape.reduce((a, b) => a * b, 1);
  const channels = d.layout === 'NHWC' ? (d.inputShape[2] as number) : (d.inputShape[0] as number);
  const values = new Float32Array(2 * size);
  for (let i = 0; i < values.length; i++) {
    const image = i < size ? 0 : 1;
    const within = i % size;
    const channel = d.layout === 'NHWC' ? within % channels : Math.floor(within / (size / channels));
    const raw = d.inputRange[0] + (image === 0 ? 0.25 : 0.75) * (d.inputRange[1] - d.inputRange[0]);
    const mean = d.normalization.mean[d.normalization.mean.length === 1 ? 0 : channel] as number;
    const std = d.normalization.std[d.normalization.std.length === 1 ? 0 : channel] as number;
    values[i] = (raw - mean) / std;
  }
  return values;
}

/** What a probe batch's answers must look like for the descriptor's `outputKind`. */
function checkAnswers(path: string, d: TargetDescriptor, out: Float32Array, dims: readonly number[]): void {
  checkOutputDims(path, d, [undefined, ...dims.slice(1)]);
  if (dims.length !== 2) return;
  const classes = dims[1] as number;
  if (!out.every(Number.isFinite))
    throw refuse(path, `the model answers a probe batch with values that are not finite`);
  for (let row = 0; row < out.length / classes; row++) {
    const values = Array.from(out.subarray(row * classes, (row + 1) * classes));
    if (d.outputKind === 'probabilities') {
      const sum = values.reduce((a, b) => a + b, 0);
      if (values.some((v) => v < -1e-6 || v > 1 + 1e-6) || Math.abs(sum - 1) > 1e-3)
        throw refuse(
          path,
          `outputKind is "probabilities", but the model's answers to a probe image sum to ${sum.toPrecision(4)} ` +
            `(range ${Math.min(...values).toPrecision(3)} to ${Math.max(...values).toPrecision(3)}); ` +
            `use "logits" for raw scores or "log-probabilities" for a log-softmax`,
        );
    } else if (d.outputKind === 'log-probabilities' && values.some((v) => v > 1e-4))
      throw refuse(
        path,
        'outputKind is "log-probabilities", but the model answers a probe image with ' +
          `${Math.max(...values).toPrecision(4)}, ` +
          `above 0 (a probability above 1); use "logits" for raw scores`,
      );
  }
}

/**
 * Checks a target descriptor against its model before anything is queried: the graph's declared
 * input and output against `inputName`, `outputName`, `layout`, `inputShape` and `classNames`,
 * then two probe images through onnxruntime against `outputKind`. Every mismatch is refused in
 * one line naming the descriptor and the key that fixes it: a wrong descriptor would otherwise be
 * scored (answers cut to the class names, pixels silently permuted, confidences of 8.95).
 */
export async function checkTargetAgainstModel(target: ResolvedTarget): Promise<void> {
  checkSignature(target);
  const d = target.descriptor;
  const session = await ort.InferenceSession.create(target.modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    let answer: ort.Tensor | undefined;
    try {
      const out = await session.run({ [d.inputName]: new ort.Tensor('float32', probeInput(d), [2, ...d.inputShape]) });
      answer = out[d.outputName];
    } catch (error) {
      throw new TransferbenchError(
        'BAD_MODEL',
        `${target.descriptorPath}: the model does not run on a [2, ${d.inputShape.join(', ')}] probe batch: ` +
          (error as Error).message,
      );
    }
    if (answer === undefined) throw refuse(target.descriptorPath, `the model returns no output ${d.outputName}`);
    checkAnswers(target.descriptorPath, d, answer.data as Float32Array, answer.dims.map(Number));
  } finally {
    await session.release();
  }
}

/** The target's image shape as transferbench holds images (NHWC, without the batch). */
export function targetImageShape(d: Pick<TargetDescriptor, 'layout' | 'inputShape'>): [number, number, number] {
  const [a, b, c] = d.inputShape as [number, number, number];
  return d.layout === 'NHWC' ? [a, b, c] : [b, c, a];
}

/**
 * A data set against a target: the same image shape (the oracle would otherwise accept any buffer
 * of the right value count, and permute pixels), and labels within the target's classes.
 */
export function checkDatasetFitsTarget(
  target: ResolvedTarget,
  dataset: { readonly name: string; readonly imageShape: readonly number[]; readonly labels: Int32Array },
): void {
  const d = target.descriptor;
  const shape = targetImageShape(d);
  if (shape.some((v, i) => v !== dataset.imageShape[i]))
    throw refuse(
      target.descriptorPath,
      `the model takes ${shape.join('x')} images (layout ${d.layout}, inputShape [${d.inputShape.join(', ')}]), ` +
        `but ${dataset.name} has ${dataset.imageShape.join('x')} (H x W x C); ` +
        `fix "layout" and "inputShape", or the suite's dataset`,
    );
  let highest = -1;
  for (const label of dataset.labels) if (label > highest) highest = label;
  if (highest >= d.classNames.length)
    throw refuse(
      target.descriptorPath,
      `${dataset.name} has label ${highest}, but the target has ${d.classNames.length} classes ` +
        `(0-${d.classNames.length - 1})`,
    );
}
