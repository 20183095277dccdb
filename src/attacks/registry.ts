import * as tf from '@tensorflow/tfjs';
import { badOption } from '../common/errors.js';
import { Registry } from '../common/registry.js';
import { advgan } from './advgan/index.js';
import { bim } from './bim.js';
import { cwL2 } from './cw-l2.js';
import { fgsm } from './fgsm.js';
import { predictedLabels } from './gradient-loop.js';
import { iterLl } from './iter-ll.js';
import { miFgsm } from './mi-fgsm.js';
import { pgd } from './pgd.js';
import { randFgsm } from './rand-fgsm.js';
import { stepLl } from './step-ll.js';
import { NORMS, type Attack, type AttackParams, type LabelSource, type LogitsModel } from './types.js';

/** Every attack transferbench knows, in the order `transferbench list attacks` shows them. */
export const ATTACKS = new Registry<Attack>('attack')
  .add(fgsm.name, fgsm)
  .add(stepLl.name, stepLl)
  .add(randFgsm.name, randFgsm)
  .add(bim.name, bim)
  .add(iterLl.name, iterLl)
  .add(pgd.name, pgd)
  .add(miFgsm.name, miFgsm)
  .add(cwL2.name, cwL2)
  .add(advgan.name, advgan);

/** What every attack starts from before its own defaults and the caller's overrides. */
const BASE: Omit<AttackParams, 'eps' | 'stepSize'> = {
  norm: 'linf',
  steps: 1,
  targeted: false,
  randomStart: false,
  decay: 0,
  confidence: 0,
  binarySearchSteps: 5,
  initialConst: 1,
  learningRate: 0.05,
  clipToLinf: true,
  epochs: 10,
  alpha: 1,
  beta: 1,
  hingeBound: 3,
  seed: 0,
};

/** Fills in defaults (base, then the attack's own for this eps, then overrides) and checks the result. */
export function resolveParams(attack: Attack, eps: number, overrides: Partial<AttackParams> = {}): AttackParams {
  if (!(eps >= 0 && eps <= 1)) throw badOption(`${attack.name}: eps`, eps, 'a number in [0, 1]');
  const params: AttackParams = { ...BASE, stepSize: eps, ...attack.defaults(eps), ...overrides, eps };
  const positiveInteger = (key: 'steps' | 'binarySearchSteps') => {
    if (!Number.isInteger(params[key]) || params[key] < 1) throw badOption(`${attack.name}: ${key}`, params[key], 'a positive integer');
  };
  positiveInteger('steps');
  positiveInteger('binarySearchSteps');
  if (!(params.stepSize >= 0)) throw badOption(`${attack.name}: stepSize`, params.stepSize, 'a non-negative number');
  if (!(NORMS as readonly string[]).includes(params.norm)) throw badOption(`${attack.name}: norm`, params.norm, NORMS.join(' or '));
  if (!(params.decay >= 0)) throw badOption(`${attack.name}: decay`, params.decay, 'a non-negative number');
  if (!Number.isInteger(params.seed)) throw badOption(`${attack.name}: seed`, params.seed, 'an integer');
  return params;
}

export interface CraftRequest {
  readonly images: tf.Tensor4D;
  /** Ground truth, int32. */
  readonly trueLabels: tf.Tensor1D;
  readonly ids: readonly number[];
  readonly eps: number;
  readonly labelSource: LabelSource;
  /** Target classes for a targeted attack. */
  readonly targetLabels?: tf.Tensor1D;
  readonly params?: Partial<AttackParams>;
  /** Attacker images with their true labels, for generative attacks to fit on. */
  readonly training?: { readonly images: Float32Array; readonly labels: Int32Array };
  /** A generator fitted earlier (cached) for a generative attack. */
  readonly generator?: tf.LayersModel;
}

/**
 * Crafts adversarial images on `model` with the named attack. The labels the attack moves away
 * from are the truth or the model's own prediction (Kurakin et al.'s label leaking hinges on
 * this); a targeted attack moves towards `targetLabels`. The caller owns the result.
 */
export function craftAdversarial(attackName: string, model: LogitsModel, request: CraftRequest): tf.Tensor4D {
  const attack = ATTACKS.get(attackName);
  const params = resolveParams(attack, request.eps, request.params);
  if (params.targeted && request.targetLabels === undefined && attack.usesLabels) {
    throw badOption(`${attack.name}: targeted`, true, 'targetLabels for a targeted attack');
  }
  return tf.tidy(() => {
    const labels = params.targeted && request.targetLabels ? request.targetLabels : request.labelSource === 'predicted' ? predictedLabels(model, request.images) : request.trueLabels;
    const training = request.training && attack.kind === 'generative' && request.generator === undefined ? resolveTrainingLabels(model, request.training, request.labelSource, request.images.shape.slice(1) as [number, number, number]) : undefined;
    const generator = attack.kind === 'generative' ? request.generator : undefined;
    return attack.craft(model, { images: request.images, labels, ids: request.ids, ...(training ? { training } : {}), ...(generator ? { generator } : {}) }, params);
  });
}

/** The training labels a generative attack fits: the truth, or the model's predictions. */
export function resolveTrainingLabels(
  model: LogitsModel,
  training: { images: Float32Array; labels: Int32Array },
  source: LabelSource,
  imageShape: readonly [number, number, number],
): { images: Float32Array; labels: Int32Array } {
  if (source === 'true') return training;
  const count = training.labels.length;
  const [h, w, c] = imageShape;
  const size = h * w * c;
  const predicted = new Int32Array(count);
  for (let start = 0; start < count; start += 256) {
    const n = Math.min(256, count - start);
    const labels = tf.tidy(() => predictedLabels(model, tf.tensor4d(training.images.subarray(start * size, (start + n) * size), [n, h, w, c])));
    predicted.set(labels.dataSync() as Int32Array, start);
    labels.dispose();
  }
  return { images: training.images, labels: predicted };
}
