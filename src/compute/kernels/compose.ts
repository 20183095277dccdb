import * as tf from '@tensorflow/tfjs';

/** What a kernel function receives: tfjs's own shape, narrowed to what composition needs. */
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

interface DisposingBackend {
  disposeData(dataId: object): boolean;
}

/**
 * Runs other kernels of the same backend directly (not through tf ops, so nothing is recorded
 * on a gradient tape and no engine bookkeeping is paid), and frees every intermediate result
 * once the composed kernel has its output.
 */
export class Composer {
  private readonly temporaries: tf.TensorInfo[] = [];

  constructor(
    private readonly backend: unknown,
    private readonly backendName: string,
    private readonly originals: ReadonlyMap<string, tf.KernelFunc> = new Map(),
  ) {}

  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const output = this.call(kernelName, inputs, attrs);
    this.temporaries.push(output);
    return output;
  }

  /** The composed kernel's result: it is kept, every temporary is released. */
  finish(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): tf.TensorInfo {
    const output = this.call(kernelName, inputs, attrs);
    const backend = this.backend as DisposingBackend;
    for (const t of this.temporaries) {
      if (t.dataId !== output.dataId) backend.disposeData(t.dataId);
    }
    this.temporaries.length = 0;
    return output;
  }

  private call(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap): tf.TensorInfo {
    const kernelFunc = this.originals.get(kernelName) ?? tf.getKernel(kernelName, this.backendName)?.kernelFunc;
    if (kernelFunc === undefined)
      throw new Error(`kernel ${kernelName} is not registered for backend ${this.backendName}`);
    const result = kernelFunc({ inputs, backend: this.backend as tf.KernelBackend, attrs });
    if (Array.isArray(result)) throw new Error(`kernel ${kernelName} returned several outputs where one was expected`);
    return result as tf.TensorInfo;
  }
}

export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  strideHeight: number;
  strideWidth: number;
  filterHeight: number;
  filterWidth: number;
  padTop: number;
  padLeft: number;
}

/** The geometry tfjs itself computes for a 2-D convolution (NHWC, no dilation). */
export function convGeometry(
  inputShape: readonly number[],
  filterShape: readonly number[],
  attrs: tf.NamedAttrMap,
): ConvGeometry {
  const dataFormat = (attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC';
  if (dataFormat !== 'NHWC') throw new Error(`composed convolution gradients support NHWC only, got ${dataFormat}`);
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    1,
    attrs.pad as 'valid' | 'same' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
  };
}
