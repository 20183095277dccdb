import { int, ints } from '../../onnx-gradient/ir.js';
import type { NetworkBuilder } from '../builder.js';

export interface ConvSpec {
  readonly filters: number;
  readonly kernel: number;
  readonly stride?: number;
  /** Zero padding on every side; default kernel / 2 rounded down ('same' at stride 1 for odd kernels). */
  readonly pad?: number;
  /** Off before a BatchNormalization, whose shift makes a bias redundant. */
  readonly bias?: boolean;
}

/** A 2-D convolution (NCHW, He-uniform weights); the builder's current value becomes its output. */
export function conv(b: NetworkBuilder, spec: ConvSpec, input = b.current, inputShape = b.shape): string {
  const [c, h, w] = inputShape as [number, number, number];
  const stride = spec.stride ?? 1;
  const pad = spec.pad ?? Math.floor(spec.kernel / 2);
  const fanIn = c * spec.kernel * spec.kernel;
  const weights = b.weight('conv_w', [spec.filters, c, spec.kernel, spec.kernel], 'he-uniform', {
    in: fanIn,
    out: spec.filters * spec.kernel * spec.kernel,
  });
  const operands = [input, weights];
  if (spec.bias !== false) operands.push(b.weight('conv_b', [spec.filters], 'zeros'));
  const out = b.emit.node('Conv', operands, {
    kernel_shape: ints([spec.kernel, spec.kernel]),
    strides: ints([stride, stride]),
    pads: ints([pad, pad, pad, pad]),
    dilations: ints([1, 1]),
    group: int(1),
  });
  const size = (n: number) => Math.floor((n + 2 * pad - spec.kernel) / stride) + 1;
  b.current = out;
  b.shape = [spec.filters, size(h), size(w)];
  b.multiplyAdds += fanIn * spec.filters * size(h) * size(w);
  return out;
}
