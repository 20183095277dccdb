import { createHash } from 'node:crypto';
import { TransferbenchError } from '../../common/errors.js';
import { DataType, encodeModel, floatTensor, valueInfo, type Graph, type TensorProto } from '../onnx-gradient/ir.js';

/** How a network reads its outputs: logits (a softmax gives probabilities) or per-class log-confidences (RBF). */
export type NetworkOutputKind = 'logits' | 'log-probabilities';

/** The value names of a network's graph: NHWC float images in [0, 1], logits out. */
export const NETWORK_IO = { images: 'images', logits: 'logits' } as const;

/**
 * A classifier as the harness holds it: an ONNX inference graph whose weights are initializers,
 * from `NETWORK_IO.images` ([batch, h, w, c], NHWC, [0, 1]) to `NETWORK_IO.logits` ([batch, classes]).
 * The onnxruntime engine trains it (trainingForm rewrites Dropout and BatchNormalization for
 * training), the gradient builder attacks it, and its bytes are what caches and the zoo keep.
 */
export interface OnnxNetwork {
  /** A registered architecture's name, or `onnx:<file>` for a graph read from a file. */
  readonly architecture: string;
  readonly graph: Graph;
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  readonly outputKind: NetworkOutputKind;
  /** The float initializers the trainer updates (BatchNormalization's running statistics are not among them). */
  readonly trainable: readonly string[];
  /** Multiply-adds of one image's forward pass, where the builder counted them (shard balancing). */
  readonly multiplyAdds?: number;
}

/**
 * The network as an ONNX model: inputs and outputs declared, dynamic batch. With `io`, its
 * input and output are renamed (a zoo target's descriptor calls them `input` and `logits`).
 */
export function networkBytes(
  network: OnnxNetwork,
  docString = `transferbench ${network.architecture}`,
  io: { readonly images: string; readonly logits: string } = NETWORK_IO,
): Uint8Array {
  const renamed = new Map<string, string>([
    [NETWORK_IO.images, io.images],
    [NETWORK_IO.logits, io.logits],
  ]);
  const rename = (value: string) => renamed.get(value) ?? value;
  const nodes =
    io.images === NETWORK_IO.images && io.logits === NETWORK_IO.logits
      ? network.graph.nodes
      : network.graph.nodes.map((n) => ({ ...n, inputs: n.inputs.map(rename), outputs: n.outputs.map(rename) }));
  const graph: Graph = {
    ...network.graph,
    nodes,
    inputs: [valueInfo(io.images, DataType.FLOAT, ['batch', ...network.imageShape])],
    outputs: [valueInfo(io.logits, DataType.FLOAT, ['batch', network.classes])],
  };
  return encodeModel(graph, docString);
}

/** sha256 of model bytes (16 hex digits): what caches, manifests and records name a network by. */
export function bytesHash(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

/** sha256 of the network's bytes (16 hex digits): what a cache key and a record name it by. */
export function networkHash(network: OnnxNetwork): string {
  return bytesHash(networkBytes(network));
}

/** A float initializer's values (a copy), for the trainer's typed arrays. */
export function initializerValues(graph: Graph, name: string): { values: Float32Array; shape: number[] } {
  const t = graph.initializers.get(name);
  if (t === undefined) throw new TransferbenchError('BAD_MODEL', `the network has no initializer ${name}`);
  if (t.dataType !== DataType.FLOAT)
    throw new TransferbenchError('BAD_MODEL', `initializer ${name} has data type ${t.dataType}; expected float32`);
  const shape = t.dims.map((d) => Number(d));
  const count = shape.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const values = raw
    ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength))
    : Float32Array.from(t.floatData);
  if (values.length !== count)
    throw new TransferbenchError('BAD_MODEL', `initializer ${name} holds ${values.length} values for shape [${shape}]`);
  return { values, shape };
}

/**
 * The network (a classifier, or an image network such as AdvGAN's generator) with some initializers
 * replaced (trained weights, running statistics); the rest shared.
 */
export function withInitializers<N extends { readonly graph: Graph }>(
  network: N,
  values: ReadonlyMap<string, Float32Array>,
): N {
  const initializers = new Map<string, TensorProto>(network.graph.initializers);
  for (const [name, v] of values) {
    const old = initializers.get(name);
    if (old === undefined) throw new TransferbenchError('BAD_MODEL', `the network has no initializer ${name}`);
    initializers.set(
      name,
      floatTensor(
        name,
        old.dims.map((d) => Number(d)),
        v,
      ),
    );
  }
  return { ...network, graph: { ...network.graph, initializers } };
}
