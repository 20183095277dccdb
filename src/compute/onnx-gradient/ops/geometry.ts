import type { Node } from '../ir.js';
import { attrInts, attrString, badModel } from './types.js';

/** The sliding-window attributes of Conv and the pools, resolved to explicit per-axis numbers. */
export interface Window {
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  readonly dilations: readonly number[];
  readonly padsBegin: readonly number[];
  readonly padsEnd: readonly number[];
}

/**
 * Resolves kernel, strides, dilations and pads (auto_pad included) for a node whose input has
 * the given spatial sizes; `kernel` comes from the weights for a Conv without kernel_shape.
 */
export function resolveWindow(node: Node, spatial: readonly number[], kernelFromWeights?: readonly number[]): Window {
  const rank = spatial.length;
  const kernel = attrInts(node, 'kernel_shape') ?? kernelFromWeights;
  if (!kernel || kernel.length !== rank) throw badModel(node, `kernel_shape must have ${rank} values`);
  const strides = attrInts(node, 'strides') ?? new Array<number>(rank).fill(1);
  const dilations = attrInts(node, 'dilations') ?? new Array<number>(rank).fill(1);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  let padsBegin: number[];
  let padsEnd: number[];
  if (autoPad === 'NOTSET') {
    const pads = attrInts(node, 'pads') ?? new Array<number>(2 * rank).fill(0);
    padsBegin = pads.slice(0, rank);
    padsEnd = pads.slice(rank);
  } else if (autoPad === 'VALID') {
    padsBegin = new Array<number>(rank).fill(0);
    padsEnd = new Array<number>(rank).fill(0);
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    padsBegin = [];
    padsEnd = [];
    for (let axis = 0; axis < rank; axis++) {
      const size = spatial[axis] as number;
      const stride = strides[axis] as number;
      const extent = ((kernel[axis] as number) - 1) * (dilations[axis] as number) + 1;
      const total = Math.max((Math.ceil(size / stride) - 1) * stride + extent - size, 0);
      const small = Math.floor(total / 2);
      padsBegin.push(autoPad === 'SAME_UPPER' ? small : total - small);
      padsEnd.push(autoPad === 'SAME_UPPER' ? total - small : small);
    }
  } else {
    throw badModel(node, `auto_pad ${autoPad} is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
  }
  return { kernel, strides, dilations, padsBegin, padsEnd };
}

/**
 * Attributes of the ConvTranspose that maps a window op's output gradient (spatial sizes
 * `outSize`) back onto its input (sizes `inSize`): the same strides and dilations, the begin pads,
 * and end pads or output_padding so that the result has exactly the input's size (rows the
 * forward op never read, in floor mode, get zeros; windows that ran past the end, in ceil mode,
 * are cropped).
 */
export function transposeAttributes(window: Window, inSize: readonly number[], outSize: readonly number[]) {
  const padsEnd: number[] = [];
  const outputPadding: number[] = [];
  inSize.forEach((size, axis) => {
    const extent = ((window.kernel[axis] as number) - 1) * (window.dilations[axis] as number) + 1;
    const produced =
      (window.strides[axis] as number) * ((outSize[axis] as number) - 1) + extent - (window.padsBegin[axis] as number);
    padsEnd.push(Math.max(produced - size, 0));
    outputPadding.push(Math.max(size - produced, 0));
  });
  return {
    strides: window.strides,
    dilations: window.dilations,
    pads: [...window.padsBegin, ...padsEnd],
    outputPadding,
  };
}

export const isTrivialWindow = (w: Window): boolean =>
  w.padsBegin.every((p) => p === 0) &&
  w.padsEnd.every((p) => p === 0) &&
  w.dilations.every((d) => d === 1) &&
  w.kernel.every((k, i) => k === w.strides[i]);

/** Every kernel offset, row-major (the last axis fastest). */
export function kernelOffsets(kernel: readonly number[]): number[][] {
  let offsets: number[][] = [[]];
  for (const k of kernel) offsets = offsets.flatMap((prefix) => Array.from({ length: k }, (_, i) => [...prefix, i]));
  return offsets;
}
