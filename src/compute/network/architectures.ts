import { Registry } from '../../common/registry.js';
import { ARCHITECTURES, type ArchitectureInput } from '../architectures.js';
import { NetworkBuilder } from './builder.js';
import { buildDigitNetwork, DIGIT_NETWORKS } from './digits.js';
import { batchNorm } from './layers/batch-norm.js';
import { conv } from './layers/conv.js';
import { dense } from './layers/dense.js';
import { globalAveragePool, maxPool, relu } from './layers/pool.js';
import { basicBlock } from './layers/residual.js';
import type { OnnxNetwork } from './network.js';

/** Training settings an architecture is usually fitted with; a suite's `training` overrides each. */
export interface TrainingPreset {
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly learningRate?: number;
}

export interface NetworkArchitecture {
  readonly name: string;
  readonly description: string;
  readonly build: (input: ArchitectureInput) => OnnxNetwork;
  /** Defined in tfjs too (src/compute/architectures.ts), so the tfjs engine can train it. */
  readonly tfjs: boolean;
  readonly preset?: TrainingPreset;
}

/** A CIFAR-style ResNet (He et al. 1512.03385): a 3x3 stem, no max pool, stages of basic blocks, global pooling. */
function resnet(widths: readonly number[], blocks: number) {
  return (input: ArchitectureInput, name: string): OnnxNetwork => {
    const b = new NetworkBuilder(input.imageShape, input.seed);
    conv(b, { filters: widths[0] as number, kernel: 3, bias: false });
    batchNorm(b);
    relu(b);
    widths.forEach((filters, stage) => {
      for (let block = 0; block < blocks; block++) basicBlock(b, filters, stage > 0 && block === 0 ? 2 : 1);
    });
    globalAveragePool(b);
    dense(b, input.classes);
    return b.finish(name, input.classes);
  };
}

/**
 * VGG-11 with BatchNormalization (Simonyan and Zisserman 1409.1556, configuration A), CIFAR-style: one linear
 * classifier.
 */
const VGG11 = [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'] as const;

function vgg(input: ArchitectureInput, name: string): OnnxNetwork {
  const b = new NetworkBuilder(input.imageShape, input.seed);
  for (const item of VGG11) {
    if (item === 'M') {
      // 28-pixel images reach 1x1 after four pools; a fifth would leave nothing.
      if ((b.shape[1] as number) >= 2) maxPool(b);
    } else {
      conv(b, { filters: item, kernel: 3, bias: false });
      batchNorm(b);
      relu(b);
    }
  }
  dense(b, input.classes);
  return b.finish(name, input.classes);
}

const registry = new Registry<NetworkArchitecture>('architecture');
for (const [name, network] of DIGIT_NETWORKS) {
  registry.add(name, {
    name,
    // Described once, beside the tfjs definition it keeps for the tfjs engine.
    description: ARCHITECTURES.get(name).description,
    tfjs: true,
    build: (input) => buildDigitNetwork(name, network, input),
  });
}

/**
 * Every architecture a target or substitute can have, each written as ONNX from the layer files
 * in layers/: the digit networks of the seed papers (digits.ts, in the Keras conventions of
 * their first, tfjs definitions) and the field's CIFAR-style substitutes.
 */
export const NETWORKS = registry
  .add('resnet18', {
    name: 'resnet18',
    description: 'CIFAR-style ResNet-18 (He et al. 1512.03385): 4 stages of 2 basic blocks, widths 64-512, BatchNorm',
    tfjs: false,
    build: (input) => resnet([64, 128, 256, 512], 2)(input, 'resnet18'),
    preset: { epochs: 10, batchSize: 64, learningRate: 1e-3 },
  })
  .add('resnet8', {
    name: 'resnet8',
    description:
      'CIFAR-style ResNet-8 (He et al. 1512.03385, 6n+2 with n = 1): 3 stages of 1 basic block, widths 16-64',
    tfjs: false,
    build: (input) => resnet([16, 32, 64], 1)(input, 'resnet8'),
    preset: { epochs: 10, batchSize: 64, learningRate: 1e-3 },
  })
  .add('vgg11', {
    name: 'vgg11',
    description: 'VGG-11 with BatchNorm (Simonyan and Zisserman 1409.1556, configuration A), CIFAR-style classifier',
    tfjs: false,
    build: (input) => vgg(input, 'vgg11'),
    preset: { epochs: 10, batchSize: 64, learningRate: 1e-3 },
  });

export function buildNetwork(name: string, input: ArchitectureInput): OnnxNetwork {
  return NETWORKS.get(name).build(input);
}
