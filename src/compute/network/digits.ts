import { Random } from '../../common/random.js';
import type { ArchitectureInput } from '../architectures.js';
import { NetworkBuilder } from './builder.js';
import { dropout } from './layers/dropout.js';
import { flattenChannelsLast } from './layers/flatten.js';
import { kerasConv, type KerasConvSpec } from './layers/keras-conv.js';
import { kerasDense } from './layers/keras-dense.js';
import { maxout } from './layers/maxout.js';
import { maxPool } from './layers/pool.js';
import { rbf } from './layers/rbf.js';
import type { NetworkOutputKind, OnnxNetwork } from './network.js';

/** One layer of a list: it emits its nodes and draws its weights through the builder. */
type Layer = (b: NetworkBuilder) => unknown;

interface DigitNetwork {
  readonly layers: (input: ArchitectureInput) => readonly Layer[];
  readonly outputKind?: NetworkOutputKind;
}

const conv =
  (filters: number, kernel: number, extra: Omit<KerasConvSpec, 'filters' | 'kernel'> = {}): Layer =>
  (b) =>
    kerasConv(b, { filters, kernel, ...extra });
const dense =
  (units: number): Layer =>
  (b) =>
    kerasDense(b, units);
/** The classifier: linear scores of every class. */
const classifier =
  (input: ArchitectureInput): Layer =>
  (b) =>
    kerasDense(b, input.classes, 'linear');
const drop =
  (rate: number): Layer =>
  (b) =>
    dropout(b, rate);
const pool: Layer = (b) => maxPool(b);
const flatten: Layer = flattenChannelsLast;

/**
 * The seed papers' digit networks as layer lists, in the Keras conventions they were first
 * written in as tfjs models (src/compute/architectures.ts, still the tfjs engine's definition):
 * built in the builder's 'keras' style, each is byte for byte what convertTfjs made of its tfjs
 * model (test/compute/network/digits.test.ts), so every zoo target and cached substitute keeps
 * its initial weights. Convolutions and dense layers draw their seeds from the builder's stream
 * in list order; maxout and RBF layers from streams of their own, as their tfjs layers did.
 */
export const DIGIT_NETWORKS: ReadonlyMap<string, DigitNetwork> = new Map<string, DigitNetwork>([
  ['softmax', { layers: (i) => [flatten, classifier(i)] }],
  [
    'maxout',
    {
      layers: (i) => {
        const seeds = new Random(i.seed).fork('maxout');
        const unit: Layer = (b) => maxout(b, { units: 240, pieces: 5, seed: seeds.seedForLibrary() });
        return [flatten, unit, unit, classifier(i)];
      },
    },
  ],
  [
    'rbf',
    {
      // No bias, so every score is <= 0 and exp(score), the class's Gaussian bump, is a confidence in (0, 1]:
      // Goodfellow et al.'s p(y = k | x), not normalised across classes.
      layers: (i) => [
        flatten,
        (b) => rbf(b, { units: i.classes, bias: false, seed: new Random(i.seed).fork('rbf').seedForLibrary() }),
      ],
      outputKind: 'log-probabilities',
    },
  ],
  ['mlp', { layers: (i) => [flatten, dense(256), dense(256), classifier(i)] }],
  ['cnn-small', { layers: (i) => [conv(32, 3), pool, conv(64, 3), pool, flatten, dense(128), classifier(i)] }],
  ['model-a', { layers: (i) => [conv(64, 5), conv(64, 5), drop(0.25), flatten, dense(128), drop(0.5), classifier(i)] }],
  [
    'model-b',
    {
      layers: (i) => [
        drop(0.2),
        conv(64, 8, { stride: 2, padding: 'same' }),
        conv(128, 6, { stride: 2, padding: 'valid' }),
        conv(128, 5),
        drop(0.5),
        flatten,
        classifier(i),
      ],
    },
  ],
  [
    'model-c',
    {
      layers: (i) => [
        conv(32, 3),
        conv(32, 3),
        pool,
        conv(64, 3),
        conv(64, 3),
        pool,
        flatten,
        dense(200),
        dense(200),
        classifier(i),
      ],
    },
  ],
]);

/** A digit network built from its layer list. */
export function buildDigitNetwork(name: string, network: DigitNetwork, input: ArchitectureInput): OnnxNetwork {
  const b = new NetworkBuilder(input.imageShape, input.seed, 'keras');
  for (const layer of network.layers(input)) layer(b);
  return b.finish(name, input.classes, network.outputKind);
}
