import type * as tf from '@tensorflow/tfjs';
import { DataType, encodeModel, onnx, valueInfo, type Graph, type Node } from '../onnx-gradient/ir.js';
import { convertTfjs } from './from-tfjs.js';

/** The value names of an image network's graph: NHWC float images in, its per-image output out. */
export const IMAGE_NETWORK_IO = { images: 'images', output: 'output' } as const;

/**
 * A network on images whose output is not class scores (AdvGAN's generator, an image per image,
 * and its discriminator, one score): an ONNX graph from `IMAGE_NETWORK_IO.images` ([batch, h, w, c])
 * to `IMAGE_NETWORK_IO.output` ([batch, ...outputShape]) with its weights as initializers, as an
 * `OnnxNetwork` is for a classifier. The onnxruntime engine trains its initializers and caches keep its bytes.
 */
export interface ImageNetwork {
  readonly architecture: string;
  readonly graph: Graph;
  readonly imageShape: readonly [number, number, number];
  /** One image's output: [h, w, c] for a generator, [1] for a discriminator's score. */
  readonly outputShape: readonly number[];
  /** The float initializers training updates, in the order of the tfjs definition's weights. */
  readonly trainable: readonly string[];
}

/** A tfjs definition as an image network (its seeded initial weights converted once); the caller disposes `model`. */
export function imageNetworkFromTfjs(model: tf.LayersModel, architecture: string): ImageNetwork {
  const { network } = convertTfjs(model, {
    prefix: '',
    input: IMAGE_NETWORK_IO.images,
    output: IMAGE_NETWORK_IO.output,
  });
  return {
    architecture,
    graph: network.graph,
    imageShape: network.imageShape,
    outputShape: (model.outputs[0]?.shape ?? []).slice(1) as number[],
    trainable: network.trainable,
  };
}

/** The network as an ONNX model: input and output declared, dynamic batch. */
export function imageNetworkBytes(network: ImageNetwork): Uint8Array {
  const graph: Graph = {
    ...network.graph,
    inputs: [valueInfo(IMAGE_NETWORK_IO.images, DataType.FLOAT, ['batch', ...network.imageShape])],
    outputs: [valueInfo(IMAGE_NETWORK_IO.output, DataType.FLOAT, ['batch', ...network.outputShape])],
  };
  return encodeModel(graph, `transferbench ${network.architecture}`);
}

/**
 * The network's graph with every name but its input under `prefix` and its input renamed `input`,
 * so that two networks fit in one graph (AdvGAN's generator step runs the discriminator on the
 * generator's output). Named as from-tfjs.ts names a converted model under a prefix, so the
 * graph is the one a direct conversion with that naming gives.
 */
export function scopedGraph(network: ImageNetwork, prefix: string, input: string): Graph {
  const rename = (name: string) => (name === IMAGE_NETWORK_IO.images ? input : name === '' ? '' : `${prefix}${name}`);
  const nodes: Node[] = network.graph.nodes.map((node) => ({
    ...node,
    name: `${prefix}${node.name}`,
    inputs: node.inputs.map(rename),
    outputs: node.outputs.map(rename),
  }));
  const initializers = new Map(
    [...network.graph.initializers.values()].map((t) => {
      const name = rename(t.name);
      return [name, onnx.TensorProto.create({ ...t, name })] as const;
    }),
  );
  return { ...network.graph, nodes, initializers, inputs: [], outputs: [] };
}
