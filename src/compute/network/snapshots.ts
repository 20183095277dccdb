import * as ort from 'onnxruntime-node';
import { TransferbenchError } from '../../common/errors.js';
import { encodeModel, type Graph, type Node, type TensorProto } from '../onnx-gradient/ir.js';
import { trainingForm } from '../onnx-train/training-form.js';
import { initializerValues, NETWORK_IO, withInitializers, type OnnxNetwork } from './network.js';

/**
 * Weight snapshots of one network (LGV and SWA collect them along a constant-rate SGD run): their
 * logits averaged in one graph, their weights averaged into one network, and BatchNormalization's
 * statistics recomputed for averaged weights.
 */

function sameGraph(networks: readonly OnnxNetwork[], what: string): OnnxNetwork {
  const first = networks[0];
  if (first === undefined) throw new TransferbenchError('BAD_CONFIG', `${what}: no snapshots to combine`);
  for (const n of networks)
    if (n.trainable.join() !== first.trainable.join() || n.graph.nodes.length !== first.graph.nodes.length)
      throw new TransferbenchError('BAD_CONFIG', `${what}: the snapshots are not of one network`);
  return first;
}

/** A value of snapshot k's copy: every name but the images input (and the empty name of an absent input) prefixed. */
const renamed = (k: number, name: string): string =>
  name === '' || name === NETWORK_IO.images ? name : `s${k}/${name}`;

/**
 * One graph holding every snapshot side by side, reading the same images, whose logits are the
 * mean of theirs (an ONNX Mean node): the logits ensemble of Dong et al. (1710.06081) over the
 * snapshots, whose input gradient is the mean of each snapshot's backward pass through the loss of
 * the mean logits. Caches, fidelity and attacks read it as any network.
 */
export function meanLogitsNetwork(snapshots: readonly OnnxNetwork[], architecture: string): OnnxNetwork {
  const first = sameGraph(snapshots, architecture);
  const nodes: Node[] = [];
  const initializers = new Map<string, TensorProto>();
  snapshots.forEach((snapshot, k) => {
    for (const node of snapshot.graph.nodes)
      nodes.push({
        ...node,
        name: `s${k}/${node.name}`,
        inputs: node.inputs.map((v) => renamed(k, v)),
        outputs: node.outputs.map((v) => renamed(k, v)),
      });
    for (const [name, tensor] of snapshot.graph.initializers) {
      const copy = { ...tensor, name: renamed(k, name) } as TensorProto;
      initializers.set(copy.name, copy);
    }
  });
  nodes.push({
    opType: 'Mean',
    name: `${architecture}/mean`,
    inputs: snapshots.map((_, k) => renamed(k, NETWORK_IO.logits)),
    outputs: [NETWORK_IO.logits],
    attributes: {},
  });
  const { multiplyAdds } = first;
  return {
    architecture,
    graph: { ...first.graph, nodes, initializers },
    imageShape: first.imageShape,
    classes: first.classes,
    outputKind: first.outputKind,
    trainable: snapshots.flatMap((_, k) => first.trainable.map((name) => renamed(k, name))),
    ...(multiplyAdds !== undefined ? { multiplyAdds: multiplyAdds * snapshots.length } : {}),
  };
}

/** The snapshots a meanLogitsNetwork holds, as the networks they were (the inverse of meanLogitsNetwork). */
export function snapshotNetworks(merged: OnnxNetwork): OnnxNetwork[] {
  const mean = merged.graph.nodes[merged.graph.nodes.length - 1];
  if (mean?.opType !== 'Mean' || mean.outputs[0] !== NETWORK_IO.logits)
    throw new TransferbenchError(
      'BAD_MODEL',
      `${merged.architecture}: not a graph of snapshots (no final Mean of logits)`,
    );
  return mean.inputs.map((_, k) => {
    const prefix = `s${k}/`;
    const own = (name: string) => name.startsWith(prefix);
    const strip = (name: string) => (own(name) ? name.slice(prefix.length) : name);
    const initializers = new Map<string, TensorProto>();
    for (const [name, tensor] of merged.graph.initializers)
      if (own(name)) initializers.set(strip(name), { ...tensor, name: strip(name) } as TensorProto);
    const trainable = merged.trainable.filter(own).map(strip);
    const { multiplyAdds } = merged;
    return {
      architecture: merged.architecture,
      graph: {
        ...merged.graph,
        nodes: merged.graph.nodes
          .filter((node) => own(node.name))
          .map((node) => ({
            ...node,
            name: strip(node.name),
            inputs: node.inputs.map(strip),
            outputs: node.outputs.map(strip),
          })),
        initializers,
      },
      imageShape: merged.imageShape,
      classes: merged.classes,
      outputKind: merged.outputKind,
      trainable,
      ...(multiplyAdds !== undefined ? { multiplyAdds: multiplyAdds / mean.inputs.length } : {}),
    };
  });
}

/**
 * The snapshots' trainable weights averaged (in float64, rounded once): stochastic weight averaging
 * (Izmailov et al. 1803.05407). BatchNormalization's statistics are the first snapshot's until
 * `recomputeBatchStatistics` replaces them, as SWA requires.
 */
export function averageWeights(snapshots: readonly OnnxNetwork[]): OnnxNetwork {
  const first = sameGraph(snapshots, 'swa');
  const values = new Map<string, Float32Array>();
  for (const name of first.trainable) {
    const sum = new Float64Array(initializerValues(first.graph, name).values.length);
    for (const snapshot of snapshots) {
      const v = initializerValues(snapshot.graph, name).values;
      for (let i = 0; i < v.length; i++) sum[i] = (sum[i] as number) + (v[i] as number);
    }
    values.set(
      name,
      Float32Array.from(sum, (s) => s / snapshots.length),
    );
  }
  return withInitializers(first, values);
}

/**
 * BatchNormalization's running mean and variance set to their averages over `images` (each batch's
 * statistics weighted by its size, as SWA's bn_update does with momentum None), the network run in
 * its training form (every BatchNormalization normalising by its batch's statistics), in order and
 * without dropout. A network without BatchNormalization comes back as it is.
 */
export async function recomputeBatchStatistics(
  network: OnnxNetwork,
  images: Float32Array,
  batchSize: number,
): Promise<OnnxNetwork> {
  if (!network.graph.nodes.some((n) => n.opType === 'BatchNormalization')) return network;
  const form = await trainingForm(network, NETWORK_IO.images, NETWORK_IO.logits, 'bn/');
  const outputs = form.statistics.flatMap((s) => [s.mean.output, s.variance.output]);
  const graph: Graph = { ...form.graph, outputs: outputs.map((name) => ({ name }) as Graph['outputs'][number]) };
  const session = await ort.InferenceSession.create(encodeModel(graph, 'transferbench batch statistics'), {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // The inference-mode statistics the training form no longer reads are unused initializers: expected.
    logSeverityLevel: 3,
  });
  const [h, w, c] = network.imageShape;
  const size = h * w * c;
  const count = images.length / size;
  if (!(count >= 1)) throw new TransferbenchError('BAD_CONFIG', 'swa: no images to recompute BatchNormalization on');
  const sums = outputs.map(() => new Float64Array(0));
  try {
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const feeds: Record<string, ort.Tensor> = {
        [NETWORK_IO.images]: new ort.Tensor('float32', images.slice(start * size, (start + n) * size), [n, h, w, c]),
      };
      for (const mask of form.masks) {
        const cells = n * mask.shape.reduce((a, b) => a * b, 1);
        feeds[mask.name] = new ort.Tensor('float32', new Float32Array(cells).fill(1), [n, ...mask.shape]);
      }
      const out = await session.run(feeds, outputs);
      outputs.forEach((name, i) => {
        const batch = out[name]?.data as Float32Array;
        if ((sums[i] as Float64Array).length === 0) sums[i] = new Float64Array(batch.length);
        const sum = sums[i] as Float64Array;
        for (let j = 0; j < batch.length; j++) sum[j] = (sum[j] as number) + n * (batch[j] as number);
      });
    }
  } finally {
    await session.release();
  }
  const values = new Map<string, Float32Array>();
  form.statistics.forEach((s, i) => {
    values.set(
      s.mean.name,
      Float32Array.from(sums[2 * i] as Float64Array, (v) => v / count),
    );
    values.set(
      s.variance.name,
      Float32Array.from(sums[2 * i + 1] as Float64Array, (v) => v / count),
    );
  });
  return withInitializers(network, values);
}
