import type { NetworkBuilder } from '../builder.js';
import { batchNorm } from './batch-norm.js';
import { conv } from './conv.js';
import { relu } from './pool.js';

/**
 * ResNet's basic block (He et al. 1512.03385, Fig. 2): conv3x3-BN-ReLU-conv3x3-BN plus the
 * shortcut, then ReLU. Where the block changes width or stride the shortcut is a 1x1
 * convolution with BN (option B of the paper, as torchvision's resnet18).
 */
export function basicBlock(b: NetworkBuilder, filters: number, stride: number): string {
  const input = b.current;
  const inputShape = [...b.shape];
  conv(b, { filters, kernel: 3, stride, bias: false });
  batchNorm(b);
  relu(b);
  conv(b, { filters, kernel: 3, bias: false });
  const main = batchNorm(b);
  const mainShape = [...b.shape];
  let shortcut = input;
  if (stride !== 1 || inputShape[0] !== filters) {
    conv(b, { filters, kernel: 1, stride, pad: 0, bias: false }, input, inputShape);
    shortcut = batchNorm(b);
  }
  b.shape = mainShape;
  b.current = b.emit.node('Add', [main, shortcut]);
  return relu(b);
}
