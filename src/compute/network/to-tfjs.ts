import type * as tf from '@tensorflow/tfjs';
import { TransferbenchError } from '../../common/errors.js';
import { writeVariables } from '../onnx-train/graph.js';
import { ARCHITECTURES, buildArchitecture } from '../architectures.js';
import { trainClassifier, type TrainingSet, type TrainOptions, type TrainResult } from '../train.js';
import { convertTfjs } from './from-tfjs.js';
import { initializerValues, withInitializers, type OnnxNetwork } from './network.js';

/**
 * The tfjs model of a network converted from one (its architecture is defined in tfjs too),
 * holding the network's current weights: what the tfjs engine trains, and the gradient tests'
 * independent reference. The caller disposes it.
 */
export function tfjsModelOf(network: OnnxNetwork): {
  model: tf.LayersModel;
  variables: ReadonlyMap<string, tf.LayerVariable>;
} {
  if (!ARCHITECTURES.has(network.architecture))
    throw new TransferbenchError(
      'BAD_OPTION',
      `architecture ${network.architecture} is written in ONNX only and trains on --engine onnxruntime, not tfjs`,
    );
  const model = buildArchitecture(network.architecture, {
    imageShape: network.imageShape,
    classes: network.classes,
    seed: 0,
  });
  const { variables } = convertTfjs(model);
  const values = new Map(
    [...variables.keys()].map((name) => [name, initializerValues(network.graph, name).values] as const),
  );
  writeVariables(variables, values);
  return { model, variables };
}

/** A network trained by tfjs (tfjs-node where it loads): into tfjs, trained there, read back as ONNX. */
export async function trainNetworkOnTfjs(
  network: OnnxNetwork,
  set: TrainingSet,
  options: TrainOptions,
): Promise<{ network: OnnxNetwork; result: TrainResult }> {
  const { model, variables } = tfjsModelOf(network);
  try {
    const result = await trainClassifier(model, set, options);
    const values = new Map([...variables].map(([name, v]) => [name, v.read().dataSync() as Float32Array] as const));
    return { network: withInitializers(network, values), result };
  } finally {
    model.dispose();
  }
}
