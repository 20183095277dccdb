import { samePadding } from '../../layers/tfjs-config.js';
import { ints } from '../../onnx-gradient/ir.js';
import type { NetworkBuilder } from '../builder.js';
import { glorotUniform } from '../keras-init.js';

export interface KerasConvSpec {
  readonly filters: number;
  readonly kernel: number;
  readonly stride?: number;
  /** TensorFlow's: 'valid' (none) or 'same' (output ceil(size / stride), any odd pixel after). */
  readonly padding?: 'valid' | 'same';
}

/**
 * Keras's Conv2D with a ReLU: the kernel kept in tfjs's HWIO layout (drawn so by glorotUniform,
 * fans from HWIO, seed from the builder's stream) and transposed to OIHW in the graph, so the
 * initializer is the tfjs variable value for value; a zero bias.
 */
export function kerasConv(b: NetworkBuilder, spec: KerasConvSpec): string {
  const [c, h, w] = b.shape as [number, number, number];
  const stride = spec.stride ?? 1;
  const input = b.toLayout('NCHW');
  const shape = [spec.kernel, spec.kernel, c, spec.filters];
  const hwio = b.weightOf('conv_w', shape, glorotUniform(shape, b.layerSeed()));
  const oihw = b.emit.node('Transpose', [hwio], { perm: ints([3, 2, 0, 1]) });
  const bias = b.weightOf('conv_b', [spec.filters], new Float32Array(spec.filters));
  const same = spec.padding === 'same';
  const [top, bottom] = same ? samePadding(h, spec.kernel, stride) : [0, 0];
  const [left, right] = same ? samePadding(w, spec.kernel, stride) : [0, 0];
  const conv = b.emit.node('Conv', [input, oihw, bias], {
    kernel_shape: ints([spec.kernel, spec.kernel]),
    strides: ints([stride, stride]),
    pads: ints([top, left, bottom, right]),
    dilations: ints([1, 1]),
  });
  const size = (n: number) => (same ? Math.ceil(n / stride) : Math.floor((n - spec.kernel) / stride) + 1);
  b.current = b.emit.node('Relu', [conv]);
  b.shape = [spec.filters, size(h), size(w)];
  return b.current;
}
