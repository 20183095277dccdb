import * as tf from '@tensorflow/tfjs';
import { convertTfjs, type GraphNaming } from '../network/from-tfjs.js';
import { NETWORK_IO } from '../network/network.js';
import { trainingForm, type TrainingForm } from './training-form.js';

export type { DropoutMask, TrainingForm } from './training-form.js';
export type { GraphNaming } from '../network/from-tfjs.js';

/** A weight of a tfjs model's training graph: the ONNX value and the tfjs variable it trains. */
export interface TrainableWeight {
  readonly name: string;
  readonly variable: tf.LayerVariable;
  readonly shape: readonly number[];
}

/** A tfjs model's training form, with the variables its trained values go back into. */
export interface TrainingGraph extends TrainingForm {
  readonly weights: readonly TrainableWeight[];
  readonly variables: ReadonlyMap<string, tf.LayerVariable>;
}

export const TRAINING_IO = { images: NETWORK_IO.images, logits: NETWORK_IO.logits } as const;

/**
 * A tfjs classifier's forward pass as a training step runs it: the one conversion to ONNX
 * (network/from-tfjs.ts), then the rewrite every network trains through (training-form.ts).
 */
export async function trainingGraph(
  model: tf.LayersModel,
  naming: GraphNaming = { prefix: '', input: TRAINING_IO.images, output: TRAINING_IO.logits },
): Promise<TrainingGraph> {
  const { network, variables } = convertTfjs(model, naming);
  const form = await trainingForm(network, naming.input, naming.output, naming.prefix);
  const weights = form.weights.map((w) => ({ ...w, variable: variables.get(w.name) as tf.LayerVariable }));
  return { ...form, weights, variables };
}

/** Trained values (by initializer name) into the tfjs variables they came from. */
export function writeVariables(
  variables: ReadonlyMap<string, tf.LayerVariable>,
  values: ReadonlyMap<string, Float32Array>,
): void {
  for (const [name, v] of values) {
    const variable = variables.get(name);
    if (variable === undefined) throw new Error(`writeVariables: no tfjs variable for ${name}`);
    tf.tidy(() => {
      variable.write(tf.tensor(v, [...variable.shape] as number[]));
    });
  }
}
