import { Random } from '../../common/random.js';
import { Emitter } from '../onnx-gradient/emit.js';
import { floatTensor, ints, type TensorProto } from '../onnx-gradient/ir.js';
import { NETWORK_IO, type NetworkOutputKind, type OnnxNetwork } from './network.js';

/** The ONNX opset networks built here are written at. */
export const BUILD_OPSET = 13;

/**
 * How a weight starts (He et al. 1502.01852 for layers followed by ReLU; Glorot and Bengio 2010 for the
 * classifier).
 */
export type Initialiser = 'he-uniform' | 'glorot-uniform' | 'zeros' | 'ones';

/** The memory layout of the current image value. */
export type ImageLayout = 'NHWC' | 'NCHW';

/**
 * How a network is written. 'onnx': images transposed to NCHW at once, weights named
 * `<label>_<i>`, multiply-adds counted. 'keras': the conventions convertTfjs (from-tfjs.ts)
 * writes a tfjs model in, so that the networks first defined in tfjs keep their bytes: images
 * stay NHWC until a layer needs NCHW and are NHWC again at the output, weights are `w<i>` in
 * creation order, and no multiply-add count (convertTfjs's networks carry none; the cost model
 * reads the tfjs definitions, and a saved substitute's network.json stays as it was).
 */
export type BuilderStyle = 'onnx' | 'keras';

/**
 * Writes an ONNX network layer by layer (each layer kind is a file in layers/ that emits its
 * nodes through this builder) with seeded initial weights: one architecture and one seed give
 * the same network, byte for byte. Images come in NHWC; `layout` says where the current value
 * is, `toLayout` transposes it; `shape` tracks one image's [C, H, W] (or [features]) whatever
 * the layout.
 */
export class NetworkBuilder {
  readonly emit = new Emitter('net', BUILD_OPSET);
  private readonly initializers: TensorProto[] = [];
  private readonly trainable: string[] = [];
  private readonly random: Random;
  private count = 0;
  /** Multiply-adds of one image so far (layers add theirs). */
  multiplyAdds = 0;
  /** One image's shape after the current value: [C, H, W] for images, [features] after a flatten. */
  shape: number[];
  current: string = NETWORK_IO.images;
  layout: ImageLayout = 'NHWC';

  constructor(
    readonly imageShape: readonly [number, number, number],
    seed: number,
    readonly style: BuilderStyle = 'onnx',
  ) {
    this.random = new Random(seed).fork('init');
    const [h, w, c] = imageShape;
    this.shape = [c, h, w];
    if (style === 'onnx') this.toLayout('NCHW');
  }

  /** Transposes the current value to `wanted` if it is not there yet; returns it. */
  toLayout(wanted: ImageLayout): string {
    if (this.layout === wanted) return this.current;
    const perm = wanted === 'NCHW' ? [0, 3, 1, 2] : [0, 2, 3, 1];
    this.current = this.emit.node('Transpose', [this.current], { perm: ints(perm) });
    this.layout = wanted;
    return this.current;
  }

  /**
   * A seed for one layer's own initialiser (a Keras-style layer's glorotUniform), drawn from the
   * builder's stream: tfjs's architectures drew one per convolution and dense layer, in order.
   */
  layerSeed(): number {
    return this.random.seedForLibrary();
  }

  /**
   * A weight of `shape`, initialised from its fan-in and fan-out (shape [out, in, ...kernel] or [in, out] for
   * Gemm).
   */
  weight(label: string, shape: readonly number[], init: Initialiser, fans?: { in: number; out: number }): string {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (init === 'ones') values.fill(1);
    else if (init !== 'zeros') {
      const fanIn = fans?.in ?? 1;
      const fanOut = fans?.out ?? 1;
      const limit = init === 'he-uniform' ? Math.sqrt(6 / fanIn) : Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) values[i] = (2 * this.random.next() - 1) * limit;
    }
    return this.weightOf(label, shape, values);
  }

  /** A weight whose initial values the layer drew itself (with its own seeded initialiser). */
  weightOf(label: string, shape: readonly number[], values: Float32Array): string {
    const name = this.nameOf(label);
    this.initializers.push(floatTensor(name, shape, values));
    this.trainable.push(name);
    return name;
  }

  /** A constant that training updates by moving average, not by gradient (BatchNormalization's statistics). */
  statistic(label: string, size: number, value: number): string {
    const name = this.nameOf(label);
    this.initializers.push(floatTensor(name, [size], new Float32Array(size).fill(value)));
    return name;
  }

  private nameOf(label: string): string {
    return this.style === 'keras' ? `w${this.count++}` : `${label}_${this.count++}`;
  }

  finish(architecture: string, classes: number, outputKind: NetworkOutputKind = 'logits'): OnnxNetwork {
    if (this.style === 'keras') this.toLayout('NHWC');
    this.emit.node('Identity', [this.current], {}, NETWORK_IO.logits);
    const { nodes, initializers } = this.emit.done();
    return {
      architecture,
      graph: {
        nodes,
        initializers: new Map([...this.initializers, ...initializers].map((t) => [t.name, t] as const)),
        inputs: [],
        outputs: [],
        opset: BUILD_OPSET,
        otherOpsets: [],
      },
      imageShape: this.imageShape,
      classes,
      outputKind,
      trainable: [...this.trainable],
      ...(this.style === 'onnx' ? { multiplyAdds: this.multiplyAdds } : {}),
    };
  }
}
