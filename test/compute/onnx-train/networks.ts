import * as tf from '@tensorflow/tfjs';
import { InstanceNorm, registerCustomLayers } from '../../../src/compute/layers/index.js';

const SHAPE = [28, 28, 1] as const;

/** Test-only networks: no architecture of the registry normalises (README, "Training engine"). */
export const NETWORKS: Record<string, (seed: number) => tf.Sequential> = {
  'BatchNormalization after a Conv2D and after a Dense (training mode)': (seed) => {
    const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 10 + k });
    const model = tf.sequential();
    model.add(
      tf.layers.conv2d({ inputShape: [...SHAPE], filters: 4, kernelSize: 3, strides: 2, kernelInitializer: init(1) }),
    );
    model.add(tf.layers.batchNormalization({ momentum: 0.9 }));
    model.add(tf.layers.activation({ activation: 'relu' }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 16, kernelInitializer: init(2) }));
    model.add(tf.layers.batchNormalization());
    model.add(tf.layers.activation({ activation: 'relu' }));
    model.add(tf.layers.dense({ units: 10, kernelInitializer: init(3) }));
    return model;
  },
  'InstanceNorm after each Conv2D': (seed) => {
    registerCustomLayers();
    const init = (k: number) => tf.initializers.glorotUniform({ seed: seed * 10 + k });
    const model = tf.sequential();
    model.add(
      tf.layers.conv2d({
        inputShape: [...SHAPE],
        filters: 4,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        kernelInitializer: init(1),
      }),
    );
    model.add(new InstanceNorm());
    model.add(tf.layers.activation({ activation: 'relu' }));
    model.add(tf.layers.conv2d({ filters: 6, kernelSize: 3, strides: 2, kernelInitializer: init(2) }));
    model.add(new InstanceNorm());
    model.add(tf.layers.leakyReLU({ alpha: 0.2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 10, kernelInitializer: init(3) }));
    return model;
  },
};
