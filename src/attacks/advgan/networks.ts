import * as tf from '@tensorflow/tfjs';
import { Random } from '../../common/random.js';
import { InstanceNorm, registerCustomLayers } from '../../compute/layers/index.js';
import { type ImageNetwork, imageNetworkFromTfjs } from '../../compute/network/image-network.js';

/** The architecture names AdvGAN's networks carry in their manifests. */
export const GENERATOR = 'advgan-generator';
export const DISCRIMINATOR = 'advgan-discriminator';

/**
 * AdvGAN's networks (Xiao et al. 1801.02610, appendix), sized for 28x28 inputs. The generator is
 * c8-d16-d32, four residual blocks r32, u16-u8, and a 3x3 output convolution; its tanh output
 * scaled by eps is the perturbation, so it is inside the L-inf ball by construction. Every
 * convolution but the last is followed by instance normalisation, as in the paper (our own
 * layer: tfjs has none); it raised semi-white-box success on model C from 48.6% to 65.6% in the
 * repro-advgan setting. The discriminator is C8-C16-C32 with leaky ReLU and a linear score
 * (least-squares GAN).
 */
export function buildGenerator(imageShape: readonly [number, number, number], seed: number): tf.LayersModel {
  registerCustomLayers();
  const random = new Random(seed).fork('advgan-generator');
  const init = () => tf.initializers.glorotUniform({ seed: random.seedForLibrary() });
  const normalise = (x: tf.SymbolicTensor) => new InstanceNorm().apply(x) as tf.SymbolicTensor;
  const activate = (x: tf.SymbolicTensor, activation: 'relu' | 'linear') =>
    activation === 'linear' ? x : (tf.layers.activation({ activation }).apply(x) as tf.SymbolicTensor);
  // Convolution, instance norm, then the activation, as in the paper's c/d/r/u blocks.
  const conv = (
    x: tf.SymbolicTensor,
    filters: number,
    kernelSize: number,
    strides: number,
    activation: 'relu' | 'linear' = 'relu',
  ) =>
    activate(
      normalise(
        tf.layers
          .conv2d({ filters, kernelSize, strides, padding: 'same', kernelInitializer: init() })
          .apply(x) as tf.SymbolicTensor,
      ),
      activation,
    );
  const deconv = (x: tf.SymbolicTensor, filters: number) =>
    activate(
      normalise(
        tf.layers
          .conv2dTranspose({ filters, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: init() })
          .apply(x) as tf.SymbolicTensor,
      ),
      'relu',
    );
  const input = tf.input({ shape: [...imageShape] });
  let x = conv(input, 8, 3, 1);
  x = conv(x, 16, 3, 2);
  x = conv(x, 32, 3, 2);
  for (let block = 0; block < 4; block++) {
    const inner = conv(conv(x, 32, 3, 1), 32, 3, 1, 'linear');
    x = tf.layers
      .activation({ activation: 'relu' })
      .apply(tf.layers.add().apply([x, inner]) as tf.SymbolicTensor) as tf.SymbolicTensor;
  }
  x = deconv(x, 16);
  x = deconv(x, 8);
  const output = tf.layers
    .conv2d({ filters: imageShape[2], kernelSize: 3, padding: 'same', activation: 'tanh', kernelInitializer: init() })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'advgan_generator' });
}

export function buildDiscriminator(imageShape: readonly [number, number, number], seed: number): tf.LayersModel {
  const random = new Random(seed).fork('advgan-discriminator');
  const init = () => tf.initializers.glorotUniform({ seed: random.seedForLibrary() });
  const model = tf.sequential({ name: 'advgan_discriminator' });
  model.add(tf.layers.inputLayer({ inputShape: [...imageShape] }));
  for (const filters of [8, 16, 32]) {
    model.add(tf.layers.conv2d({ filters, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init() }));
    model.add(tf.layers.leakyReLU({ alpha: 0.2 }));
  }
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 1, kernelInitializer: init() }));
  return model;
}

/** A tfjs definition converted once, so the seeded initial weights (and every fitted generator) stay what they were. */
function converted(model: tf.LayersModel, architecture: string): ImageNetwork {
  try {
    return imageNetworkFromTfjs(model, architecture);
  } finally {
    model.dispose();
  }
}

/** The generator as an ONNX network, with buildGenerator's initial weights. */
export function generatorNetwork(imageShape: readonly [number, number, number], seed: number): ImageNetwork {
  return converted(buildGenerator(imageShape, seed), GENERATOR);
}

/** The discriminator as an ONNX network, with buildDiscriminator's initial weights. */
export function discriminatorNetwork(imageShape: readonly [number, number, number], seed: number): ImageNetwork {
  return converted(buildDiscriminator(imageShape, seed), DISCRIMINATOR);
}
