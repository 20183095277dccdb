import * as ort from 'onnxruntime-node';
import { badOption } from '../../common/errors.js';
import type { FeatureLayer, FeatureTaps, LossRequest } from '../surrogate.js';
import { GRADIENT_IO, type OnnxModelDescription } from './heads.js';
import { buildDecayedGradientModel, DECAY_IO } from './decay.js';
import { buildFeatureGradientModel, buildFeatureObjectiveModel, FEATURE_IO, featureLayers } from './taps.js';
import type { BackwardTricks } from './tricks.js';

type Feeds = (start: number, n: number) => Record<string, ort.Tensor>;

/** What the ONNX surrogate shares with its feature taps: the model, its session cache and its checks. */
export interface TapHost {
  readonly onnxBytes: Uint8Array;
  readonly description: OnnxModelDescription;
  readonly tricks: BackwardTricks | undefined;
  sessionFor(key: string, build: () => Promise<Uint8Array>): Promise<ort.InferenceSession>;
  checkImages(images: Float32Array, count: number): void;
  checkLabels(labels: Int32Array): void;
  imagesTensor(images: Float32Array, start: number, n: number): ort.Tensor;
  runBatched(
    session: ort.InferenceSession,
    count: number,
    feeds: Feeds,
    outputs: Record<string, number>,
  ): Promise<Record<string, Float32Array>>;
  lossFeeds(images: Float32Array, labels: Int32Array, request: LossRequest): Feeds;
}

/**
 * The ONNX surrogate's FeatureTaps: one session per layer and loss (and one per layer for the
 * objective; one per layer and loss for ILPD's decay), built on first use and kept with the surrogate's others.
 */
export function featureTaps(host: TapHost): FeatureTaps {
  let layers: Promise<FeatureLayer[]> | undefined;
  const layerList = () => {
    layers ??= featureLayers(host.onnxBytes, host.description);
    return layers;
  };
  const tricks = host.tricks ? { tricks: host.tricks } : {};
  /** The layer's shape and size per image (read after its session is built: the builder refuses an unknown name). */
  const layerOf = async (layer: string) => {
    const known = (await layerList()).find((l) => l.name === layer || l.name === `model/${layer}`);
    const shape = known?.shape ?? [];
    return { shape, size: shape.reduce((a, b) => a * b, 1) };
  };
  return {
    layers: layerList,
    async featureGradient(images, labels, layer, request) {
      host.checkImages(images, labels.length);
      host.checkLabels(labels);
      const session = await host.sessionFor(`tap ${request.loss} ${layer}`, () =>
        buildFeatureGradientModel(host.onnxBytes, host.description, { layer, loss: request.loss, ...tricks }),
      );
      const { size } = await layerOf(layer);
      const out = await host.runBatched(session, labels.length, host.lossFeeds(images, labels, request), {
        [GRADIENT_IO.logits]: host.description.classes,
        [GRADIENT_IO.loss]: 1,
        [FEATURE_IO.feature]: size,
        [FEATURE_IO.featureGradient]: size,
      });
      return {
        logits: out[GRADIENT_IO.logits] as Float32Array,
        loss: out[GRADIENT_IO.loss] as Float32Array,
        feature: out[FEATURE_IO.feature] as Float32Array,
        gradient: out[FEATURE_IO.featureGradient] as Float32Array,
      };
    },
    async featureObjectiveGradient(images, request) {
      const session = await host.sessionFor(`objective ${request.layer}`, () =>
        buildFeatureObjectiveModel(host.onnxBytes, host.description, { layer: request.layer, ...tricks }),
      );
      const { shape, size } = await layerOf(request.layer);
      const count = request.weights.length / size;
      if (!Number.isInteger(count))
        throw badOption('weights', `${request.weights.length} values`, `a whole number of ${size}-value features`);
      host.checkImages(images, count);
      const reference = request.reference ?? new Float32Array(request.weights.length);
      if (reference.length !== request.weights.length)
        throw badOption('reference', `${reference.length} values`, `as many as weights (${request.weights.length})`);
      const slice = (values: Float32Array, start: number, n: number) =>
        new ort.Tensor('float32', values.subarray(start * size, (start + n) * size), [n, ...shape]);
      const out = await host.runBatched(
        session,
        count,
        (start, n) => ({
          [GRADIENT_IO.images]: host.imagesTensor(images, start, n),
          [FEATURE_IO.weights]: slice(request.weights, start, n),
          [FEATURE_IO.reference]: slice(reference, start, n),
        }),
        { [FEATURE_IO.feature]: size, [FEATURE_IO.objective]: 1, [GRADIENT_IO.gradient]: images.length / count },
      );
      return {
        feature: out[FEATURE_IO.feature] as Float32Array,
        objective: out[FEATURE_IO.objective] as Float32Array,
        gradient: out[GRADIENT_IO.gradient] as Float32Array,
      };
    },
    async decayedLossGradient(images, labels, request, decay) {
      host.checkImages(images, labels.length);
      host.checkLabels(labels);
      if (!Number.isFinite(decay.gamma)) throw badOption('gamma', decay.gamma, 'a finite number');
      const session = await host.sessionFor(`decay ${request.loss} ${decay.layer}`, () =>
        buildDecayedGradientModel(host.onnxBytes, host.description, {
          layer: decay.layer,
          loss: request.loss,
          ...tricks,
        }),
      );
      const { shape, size } = await layerOf(decay.layer);
      const reference = decay.reference ?? new Float32Array(labels.length * size);
      if (reference.length !== labels.length * size)
        throw badOption('reference', `${reference.length} values`, `${labels.length} features of ${size} values`);
      const gamma = new ort.Tensor('float32', new Float32Array([decay.gamma]), []);
      const lossFeeds = host.lossFeeds(images, labels, request);
      const out = await host.runBatched(
        session,
        labels.length,
        (start, n) => ({
          ...lossFeeds(start, n),
          [DECAY_IO.reference]: new ort.Tensor('float32', reference.subarray(start * size, (start + n) * size), [
            n,
            ...shape,
          ]),
          [DECAY_IO.gamma]: gamma,
        }),
        {
          [GRADIENT_IO.logits]: host.description.classes,
          [GRADIENT_IO.loss]: 1,
          [GRADIENT_IO.gradient]: images.length / Math.max(1, labels.length),
          [FEATURE_IO.feature]: size,
        },
      );
      return {
        logits: out[GRADIENT_IO.logits] as Float32Array,
        loss: out[GRADIENT_IO.loss] as Float32Array,
        gradient: out[GRADIENT_IO.gradient] as Float32Array,
        feature: out[FEATURE_IO.feature] as Float32Array,
      };
    },
  };
}
