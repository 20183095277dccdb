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

/**
 * Writes an ONNX network layer by layer (each layer kind is a file in layers/ that emits its
 * nodes through this builder) with seeded initial weights: one architecture and one seed give
 * the same network, byte for byte. Images come in NHWC and are transposed once to the NCHW
 * that ONNX convolutions read; `shape` tracks one image's [C, H, W] (or [features]).
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
  current: string;

  constructor(
    readonly imageShape: readonly [number, number, number],
    seed: number,
  ) {
    this.random = new Random(seed).fork('init');
    const [h, w, c] = imageShape;
    this.current = this.emit.node('Transpose', [NETWORK_IO.images], { perm: ints([0, 3, 1, 2]) });
    this.shape = [c, h, w];
  }

  /**
   * A weight of `shape`, initialised from its fan-in and fan-out (shape [out, in, ...kernel] or [in, out] for
   * Gemm).
   */
  weight(label: string, shape: readonly number[], init: Initialiser, fans?: { in: number; out: number }): string {
    const name = `${label}_${this.count++}`;
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    if (init === 'ones') values.fill(1);
    else if (init !== 'zeros') {
      const fanIn = fans?.in ?? 1;
      const fanOut = fans?.out ?? 1;
      const limit = init === 'he-uniform' ? Math.sqrt(6 / fanIn) : Math.sqrt(6 / (fanIn + fanOut));
      for (let i = 0; i < size; i++) values[i] = (2 * this.random.next() - 1) * limit;
    }
    this.initializers.push(floatTensor(name, shape, values));
    this.trainable.push(name);
    return name;
  }

  /** A constant that training updates by moving average, not by gradient (BatchNormalization's statistics). */
  statistic(label: string, size: number, value: number): string {
    const name = `${label}_${this.count++}`;
    this.initializers.push(floatTensor(name, [size], new Float32Array(size).fill(value)));
    return name;
  }

  finish(architecture: string, classes: number, outputKind: NetworkOutputKind = 'logits'): OnnxNetwork {
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
      multiplyAdds: this.multiplyAdds,
    };
  }
}
