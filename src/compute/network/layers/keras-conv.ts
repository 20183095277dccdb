import { samePadding } from '../../layers/tfjs-config.js';
import type { Emitter } from '../../onnx-gradient/emit.js';
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

/** A convolution's window as ONNX reads it: pads [top, left, bottom, right]. */
export interface ConvWindow {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly pads: readonly number[];
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
  const bias = b.weightOf('conv_b', [spec.filters], new Float32Array(spec.filters));
  const same = spec.padding === 'same';
  const [top, bottom] = same ? samePadding(h, spec.kernel, stride) : [0, 0];
  const [left, right] = same ? samePadding(w, spec.kernel, stride) : [0, 0];
  const window: ConvWindow = {
    kernel: [spec.kernel, spec.kernel],
    strides: [stride, stride],
    pads: [top, left, bottom, right],
  };
  const conv = hwioConvNodes(b.emit, input, { kernel: hwio, bias }, window);
  const size = (n: number) => (same ? Math.ceil(n / stride) : Math.floor((n - spec.kernel) / stride) + 1);
  b.current = b.emit.node('Relu', [conv]);
  b.shape = [spec.filters, size(h), size(w)];
  return b.current;
}

/**
 * The convolution's nodes on an NCHW value: the HWIO kernel transposed to OIHW, then Conv.
 * convertTfjs writes a tfjs Conv2D through here too, so both definitions emit one graph.
 */
export function hwioConvNodes(
  emit: Emitter,
  x: string,
  weights: { readonly kernel: string; readonly bias: string | undefined },
  window: ConvWindow,
): string {
  const oihw = emit.node('Transpose', [weights.kernel], { perm: ints([3, 2, 0, 1]) });
  const operands = weights.bias === undefined ? [x, oihw] : [x, oihw, weights.bias];
  return emit.node('Conv', operands, {
    kernel_shape: ints(window.kernel),
    strides: ints(window.strides),
    pads: ints(window.pads),
    dilations: ints([1, 1]),
  });
}
