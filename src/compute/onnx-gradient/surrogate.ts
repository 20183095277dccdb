import * as ort from 'onnxruntime-node';
import { badOption } from '../../common/errors.js';
import type { LossGradient, LossRequest, Surrogate, SurrogateLoss } from '../surrogate.js';
import { buildGradientModel, buildLogitsModel } from './build.js';
import { GRADIENT_IO, imageShapeOf, type OnnxModelDescription } from './heads.js';
import type { BackwardTricks } from './tricks.js';

export interface OnnxSurrogateOptions {
  /** For logs and leaderboards; default 'onnx'. */
  readonly name?: string;
  /** onnxruntime's intra-op threads per session; default 1. */
  readonly intraOpNumThreads?: number;
  /** Images per onnxruntime run; larger calls are split. Default 256. */
  readonly batchSize?: number;
  /**
   * Let onnxruntime's idle intra-op threads spin-wait for work (its default). Off by default:
   * a gradient graph is many short nodes, and with 2 threads on this shared 2-core machine FGSM
   * on model C ran about 1.8x faster without spinning (README).
   */
  readonly spinning?: boolean;
  /** SGM / LinBP; none by default. */
  readonly tricks?: BackwardTricks;
}

/**
 * A Surrogate computed by onnxruntime: the classifier's ONNX bytes with a generated backward
 * pass (buildGradientModel), one session per loss, built on first use and kept.
 */
export async function createOnnxSurrogate(
  onnxBytes: Uint8Array,
  description: OnnxModelDescription,
  options: OnnxSurrogateOptions = {},
): Promise<Surrogate> {
  const threads = options.intraOpNumThreads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw badOption('intraOpNumThreads', threads, 'an integer >= 1');
  const batchSize = options.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw badOption('batchSize', batchSize, 'an integer >= 1');
  if (!Number.isInteger(description.classes) || description.classes < 2)
    throw badOption('classes', description.classes, 'an integer >= 2');
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } },
  };
  const imageShape = imageShapeOf(description);
  const imageSize = imageShape[0] * imageShape[1] * imageShape[2];
  const classes = description.classes;
  // Built eagerly so a model the builder cannot handle fails here, not in the first attack step.
  const logitsSession = await ort.InferenceSession.create(
    await buildLogitsModel(onnxBytes, description),
    sessionOptions,
  );
  const lossSessions = new Map<SurrogateLoss, Promise<ort.InferenceSession>>();
  let disposed = false;
  const sessionFor = (loss: SurrogateLoss) => {
    let session = lossSessions.get(loss);
    if (!session) {
      session = buildGradientModel(onnxBytes, description, {
        loss,
        ...(options.tricks ? { tricks: options.tricks } : {}),
      }).then((bytes) => ort.InferenceSession.create(bytes, sessionOptions));
      lossSessions.set(loss, session);
      // A loss that cannot be built fails its call, not every later call or the dispose.
      session.catch(() => lossSessions.delete(loss));
    }
    return session;
  };
  const checkImages = (images: Float32Array, count: number) => {
    if (disposed) throw badOption('surrogate', options.name ?? 'onnx', 'a surrogate that has not been disposed');
    if (images.length !== count * imageSize)
      throw badOption(
        'images',
        `${images.length} values`,
        `${count} images of ${imageShape.join('x')} = ${count * imageSize} values`,
      );
  };
  const imagesTensor = (images: Float32Array, start: number, n: number) =>
    new ort.Tensor('float32', images.subarray(start * imageSize, (start + n) * imageSize), [n, ...imageShape]);

  return {
    name: options.name ?? 'onnx',
    imageShape,
    classes,
    async logits(images, count) {
      checkImages(images, count);
      const logits = new Float32Array(count * classes);
      for (let start = 0; start < count; start += batchSize) {
        const n = Math.min(batchSize, count - start);
        const result = await logitsSession.run({ [GRADIENT_IO.images]: imagesTensor(images, start, n) });
        logits.set(result[GRADIENT_IO.logits]?.data as Float32Array, start * classes);
      }
      return logits;
    },
    async lossGradient(images, labels, request: LossRequest): Promise<LossGradient> {
      const count = labels.length;
      checkImages(images, count);
      const bad = labels.findIndex((l) => !(l >= 0 && l < classes));
      if (bad >= 0) throw badOption(`labels[${bad}]`, labels[bad], `a class index in [0, ${classes - 1}]`);
      const session = await sessionFor(request.loss);
      const kappa = request.kappa ?? 0;
      const out = {
        logits: new Float32Array(count * classes),
        loss: new Float32Array(count),
        gradient: new Float32Array(count * imageSize),
      };
      for (let start = 0; start < count; start += batchSize) {
        const n = Math.min(batchSize, count - start);
        const feeds: Record<string, ort.Tensor> = {
          [GRADIENT_IO.images]: imagesTensor(images, start, n),
          [GRADIENT_IO.labels]: new ort.Tensor('int32', labels.subarray(start, start + n), [n]),
        };
        if (request.loss.startsWith('cw-'))
          feeds[GRADIENT_IO.kappa] = new ort.Tensor('float32', new Float32Array([kappa]), []);
        const result = await session.run(feeds);
        out.logits.set(result[GRADIENT_IO.logits]?.data as Float32Array, start * classes);
        out.loss.set(result[GRADIENT_IO.loss]?.data as Float32Array, start);
        out.gradient.set(result[GRADIENT_IO.gradient]?.data as Float32Array, start * imageSize);
      }
      return out;
    },
    async dispose() {
      disposed = true;
      await logitsSession.release();
      for (const session of lossSessions.values()) await (await session).release();
      lossSessions.clear();
    },
  };
}
