import * as ort from 'onnxruntime-node';
import { badOption } from '../../common/errors.js';
import type { LossGradient, LossRequest, Surrogate, SurrogateLoss } from '../surrogate.js';
import { buildGradientModel, buildLogitsModel } from './build.js';
import { GRADIENT_IO, imageShapeOf, type OnnxModelDescription } from './heads.js';
import { featureTaps } from './surrogate-taps.js';
import type { BackwardTricks } from './tricks.js';
import { variantSessions } from './variants.js';

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
  const name = options.name ?? 'onnx';
  const tricks = options.tricks ? { tricks: options.tricks } : {};
  // Built eagerly so that a model the builder cannot differentiate fails here, naming every operator it lacks, and
  // not in the first attack step.
  const logitsSession = await ort.InferenceSession.create(
    await buildLogitsModel(onnxBytes, description),
    sessionOptions,
  );
  const sessions = new Map<string, Promise<ort.InferenceSession>>();
  const sessionFor = (key: string, build: () => Promise<Uint8Array>) => {
    let session = sessions.get(key);
    if (!session) {
      session = build().then((bytes) => ort.InferenceSession.create(bytes, sessionOptions));
      sessions.set(key, session);
    }
    return session;
  };
  const lossSession = (loss: SurrogateLoss) =>
    sessionFor(`loss ${loss}`, () => buildGradientModel(onnxBytes, description, { loss, ...tricks }));
  let disposed = false;
  const dispose = async () => {
    disposed = true;
    // A session whose build failed is a rejected promise: it was reported to the call that needed it.
    const settled = await Promise.allSettled([Promise.resolve(logitsSession), ...sessions.values()]);
    sessions.clear();
    for (const s of settled) if (s.status === 'fulfilled') await s.value.release().catch(() => undefined);
  };
  try {
    await lossSession('cross-entropy');
  } catch (error) {
    await dispose();
    throw error;
  }
  const checkImages = (images: Float32Array, count: number) => {
    if (disposed) throw badOption('surrogate', name, 'a surrogate that has not been disposed');
    if (images.length !== count * imageSize)
      throw badOption(
        'images',
        `${images.length} values`,
        `${count} images of ${imageShape.join('x')} = ${count * imageSize} values`,
      );
  };
  const checkLabels = (labels: Int32Array) => {
    const bad = labels.findIndex((l) => !(l >= 0 && l < classes));
    if (bad >= 0) throw badOption(`labels[${bad}]`, labels[bad], `a class index in [0, ${classes - 1}]`);
  };
  const imagesTensor = (images: Float32Array, start: number, n: number) =>
    new ort.Tensor('float32', images.subarray(start * imageSize, (start + n) * imageSize), [n, ...imageShape]);
  /** Runs `session` batch by batch, copying each named output into its count x size result. */
  const runBatched = async (
    session: ort.InferenceSession,
    count: number,
    feedsOf: (start: number, n: number) => Record<string, ort.Tensor>,
    outputs: Record<string, number>,
  ) => {
    const results = Object.fromEntries(Object.entries(outputs).map(([o, size]) => [o, new Float32Array(count * size)]));
    for (let start = 0; start < count; start += batchSize) {
      const n = Math.min(batchSize, count - start);
      const result = await session.run(feedsOf(start, n));
      for (const [o, size] of Object.entries(outputs)) results[o]?.set(result[o]?.data as Float32Array, start * size);
    }
    return results as Record<string, Float32Array>;
  };
  const lossFeeds = (images: Float32Array, labels: Int32Array, request: LossRequest) => (start: number, n: number) => {
    const feeds: Record<string, ort.Tensor> = {
      [GRADIENT_IO.images]: imagesTensor(images, start, n),
      [GRADIENT_IO.labels]: new ort.Tensor('int32', labels.subarray(start, start + n), [n]),
    };
    if (request.loss.startsWith('cw-'))
      feeds[GRADIENT_IO.kappa] = new ort.Tensor('float32', new Float32Array([request.kappa ?? 0]), []);
    return feeds;
  };
  const variantSession = variantSessions({ name, onnxBytes, description, tricks: options.tricks, sessionFor });
  /** The request's gradient session: the surrogate's own, or its model variant's with that variant's feeds. */
  const gradientSession = async (request: LossRequest) =>
    request.variant ? variantSession(request) : { session: await lossSession(request.loss), feeds: {} };
  const taps = featureTaps({
    onnxBytes,
    description,
    tricks: options.tricks,
    sessionFor,
    checkImages,
    checkLabels,
    imagesTensor,
    runBatched,
    lossFeeds,
  });

  return {
    name,
    imageShape,
    classes,
    taps,
    async logits(images, count) {
      checkImages(images, count);
      const out = await runBatched(
        logitsSession,
        count,
        (start, n) => ({ [GRADIENT_IO.images]: imagesTensor(images, start, n) }),
        { [GRADIENT_IO.logits]: classes },
      );
      return out[GRADIENT_IO.logits] as Float32Array;
    },
    async lossGradient(images, labels, request: LossRequest): Promise<LossGradient> {
      checkImages(images, labels.length);
      checkLabels(labels);
      const { session, feeds } = await gradientSession(request);
      const batchFeeds = lossFeeds(images, labels, request);
      const out = await runBatched(session, labels.length, (start, n) => ({ ...batchFeeds(start, n), ...feeds }), {
        [GRADIENT_IO.logits]: classes,
        [GRADIENT_IO.loss]: 1,
        [GRADIENT_IO.gradient]: imageSize,
      });
      return {
        logits: out[GRADIENT_IO.logits] as Float32Array,
        loss: out[GRADIENT_IO.loss] as Float32Array,
        gradient: out[GRADIENT_IO.gradient] as Float32Array,
      };
    },
    /**
     * d(sum(logits * upstream))/d(images), for a logits ensemble: the objective tap on the
     * classifier's output (for a probabilities model that is the probabilities, so it is offered for logits only).
     */
    ...(description.outputKind === 'probabilities'
      ? {}
      : {
          async logitsGradient(images: Float32Array, upstream: Float32Array): Promise<Float32Array> {
            const out = await taps.featureObjectiveGradient(images, {
              layer: description.outputName,
              weights: upstream,
            });
            return out.gradient;
          },
        }),
    dispose,
  };
}
