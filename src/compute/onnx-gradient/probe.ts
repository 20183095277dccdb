import * as ort from 'onnxruntime-node';
import { TransferbenchError } from '../../common/errors.js';
import { encodeModel, type Graph } from './ir.js';

/** What the builder knows of one value of the forward graph. */
export interface ValueFacts {
  /** onnxruntime's name of the element type: 'float32', 'int64', 'bool', ... */
  readonly type: string;
  /** Dimensions, with -1 for every dimension that grows with the batch. */
  readonly shape: readonly number[];
  /** For integer tensors of at most 64 elements: the values at batch 1 and at batch 2. */
  readonly values?: readonly [readonly number[], readonly number[]];
  /** For a value asked for (probeGraph's `constants`) that came out the same at both batches: that value. */
  readonly constant?: ort.Tensor;
}

export type Facts = ReadonlyMap<string, ValueFacts>;

/** A feed for the probe: an input's name, its element type and its dimensions after the batch. */
export interface ProbeInput {
  readonly name: string;
  readonly type: 'float32' | 'int32' | 'int64';
  /** Dimensions after the batch; `scalar` for an input without a batch dimension (C&W's kappa). */
  readonly dims: readonly number[] | 'scalar';
}

/**
 * Runs the forward graph in onnxruntime at batch 1 and at batch 2 with every value as an output,
 * and reads off each value's element type, its shape (a dimension that differs between the two
 * runs grows with the batch) and the values of small integer tensors (the shape sub-graphs,
 * folded afterwards). onnxruntime itself is the shape inference: every operator it runs is
 * understood, whatever its opset. The values named in `constants` (those that do not depend on the
 * images: fold.ts's valuesWithoutImages) are kept whole when both runs agree, to be folded too.
 */
export async function probeGraph(
  graph: Graph,
  inputs: readonly ProbeInput[],
  constants: ReadonlySet<string> = new Set(),
): Promise<Facts> {
  const outputs = new Set<string>();
  for (const node of graph.nodes) for (const o of node.outputs) if (o !== '') outputs.add(o);
  for (const i of inputs) outputs.add(i.name);
  const probeModel = encodeModel(
    {
      ...graph,
      outputs: [...outputs]
        .filter((o) => !inputs.some((i) => i.name === o))
        .map((name) => ({ name }) as Graph['outputs'][number]),
    },
    'probe',
  );
  const session = await ort.InferenceSession.create(probeModel, {
    graphOptimizationLevel: 'disabled',
    intraOpNumThreads: 1,
    logSeverityLevel: 4,
  });
  try {
    const runs: Record<string, ort.Tensor>[] = [];
    for (const batch of [1, 2]) {
      const feeds: Record<string, ort.Tensor> = {};
      for (const input of inputs) {
        const dims = input.dims === 'scalar' ? [] : [batch, ...input.dims];
        const size = dims.reduce((a, b) => a * b, 1);
        feeds[input.name] =
          input.type === 'float32'
            ? new ort.Tensor('float32', new Float32Array(size).fill(0.5), dims)
            : input.type === 'int32'
              ? new ort.Tensor('int32', new Int32Array(size), dims)
              : new ort.Tensor('int64', new BigInt64Array(size), dims);
      }
      try {
        runs.push({ ...feeds, ...(await session.run(feeds)) });
      } catch (error) {
        throw new TransferbenchError(
          'BAD_MODEL',
          `ONNX gradient: the model does not run at batch ${batch} ` +
            `(${(error as Error).message.replace(/\s*\n\s*/g, ' ')}); ` +
            `export it with a dynamic batch dimension (torch.onnx.export(..., ` +
            `dynamic_axes={"input": {0: "batch"}}))`,
        );
      }
    }
    const facts = new Map<string, ValueFacts>();
    for (const name of [...outputs]) {
      const a = runs[0]?.[name];
      const b = runs[1]?.[name];
      if (!a || !b) continue;
      const shape = a.dims.map((d, axis) => (b.dims[axis] === d ? d : -1));
      const integer = a.type === 'int64' || a.type === 'int32';
      const values =
        integer && a.size <= 64 && b.size <= 64
          ? ([
              Array.from(a.data as ArrayLike<number | bigint>, Number),
              Array.from(b.data as ArrayLike<number | bigint>, Number),
            ] as const)
          : undefined;
      const constant = constants.has(name) && sameTensor(a, b) ? a : undefined;
      facts.set(name, { type: a.type, shape, ...(values ? { values } : {}), ...(constant ? { constant } : {}) });
    }
    return facts;
  } finally {
    await session.release();
  }
}

function sameTensor(a: ort.Tensor, b: ort.Tensor): boolean {
  if (a.type !== b.type || a.dims.length !== b.dims.length || a.dims.some((d, i) => d !== b.dims[i])) return false;
  const [x, y] = [a.data as ArrayLike<unknown>, b.data as ArrayLike<unknown>];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i] && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) return false;
  return true;
}
