import { TransferbenchError } from '../common/errors.js';
import { trainNetwork } from '../compute/engine.js';
import { snapshotSteps } from '../compute/onnx-train/train.js';
import type { OnnxNetwork } from '../compute/network/network.js';
import { attackerCount, attackerSlice, fit, isArchitectureFile, newSubstitute, targetsFromAnswer } from './fit.js';
import type { AnyParam } from '../common/params.js';
import type { ResolvedParams } from './params.js';
import type { SubstituteContext } from './types.js';

/**
 * What LGV (Gubri et al. 2207.13129) and SWA (Izmailov et al. 1803.05407) share: a base surrogate,
 * a few more epochs of SGD at a high constant learning rate from it, and the weights collected
 * along the way. They differ only in what they make of the snapshots (lgv.ts, swa.ts).
 */

export const BASES = ['ground-truth', 'static-distillation', 'given'] as const;
export const LABELS = ['truth', 'target'] as const;

/** The parameters both declare; the defaults are LGV's for ImageNet ResNet-50 (their train_cSGD.sh). */
export const VICINITY_PARAMETERS: readonly AnyParam[] = [
  {
    name: 'base',
    range: { type: 'string', enum: BASES },
    default: 'ground-truth',
    description:
      'the surrogate the epochs start from: fitted with the training settings on the true labels (as ground-truth ' +
      "does) or on the target's answers (as static-distillation does), or `given`: an ONNX architecture's own " +
      'weights (a pretrained surrogate)',
  },
  {
    name: 'labels',
    range: { type: 'string', enum: LABELS },
    default: 'truth',
    description:
      "what the constant-rate epochs fit: the attacker images' true labels (no queries) or the target's answers " +
      '(one query per image, shared with a static-distillation base)',
  },
  {
    name: 'trainImages',
    range: { type: 'integer', minimum: 1 },
    description:
      "how many of the attacker's images to label and train on (default: all; with the target's labels, at " +
      'most the budget)',
  },
  {
    name: 'extraEpochs',
    range: { type: 'integer', minimum: 1 },
    default: 10,
    description: 'epochs of constant-rate SGD from the base (LGV: 10)',
  },
  {
    name: 'snapshotsPerEpoch',
    range: { type: 'integer', minimum: 1 },
    default: 4,
    description: 'weights collected per epoch, evenly spaced in its minibatches (LGV: 4, so 40 snapshots)',
  },
  {
    name: 'sgdLearningRate',
    range: { type: 'number', minimum: 0 },
    default: 0.05,
    description: 'the constant learning rate (LGV: 0.05, 0 keeps the base)',
  },
  {
    name: 'sgdMomentum',
    range: { type: 'number', minimum: 0, maximum: 0.999 },
    default: 0.9,
    description: 'SGD momentum (LGV: 0.9)',
  },
  {
    name: 'weightDecay',
    range: { type: 'number', minimum: 0 },
    default: 1e-4,
    description: 'L2 weight decay added to the gradient (LGV: 1e-4)',
  },
];

/** The snapshots of one run, and the images it trained on (SWA recomputes BatchNormalization on them). */
export interface Vicinity {
  readonly base: OnnxNetwork;
  readonly snapshots: readonly OnnxNetwork[];
  readonly images: Float32Array;
  /** Images labelled by the target (substitute-training queries). */
  readonly queries: number;
}

/**
 * Labels the training images (the target queried at most once per image, whatever the base and
 * the epochs fit), obtains the base, and runs the constant-rate epochs, collecting the snapshots.
 */
export async function collectVicinity(
  strategy: string,
  context: SubstituteContext,
  params: ResolvedParams,
): Promise<Vicinity> {
  const base = params.string('base');
  const labels = params.string('labels');
  const needsAnswers = labels === 'target' || base === 'static-distillation';
  const wanted = Math.min(params.number('trainImages', attackerCount(context)), attackerCount(context));
  const n = needsAnswers ? Math.min(wanted, context.budget) : wanted;
  if (n < 1)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${strategy}: labels or base from the target need a budget of at least one query ` +
        `(the budget is ${context.budget})`,
    );
  if (base === 'given' && !isArchitectureFile(context.architecture))
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${strategy}: base given needs an architecture that is an ONNX file's descriptor; ` +
        `${context.architecture} has no ` +
        'weights of its own (use base ground-truth or static-distillation)',
    );
  if (base === 'given' && context.training.init === 'fresh')
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${strategy}: base given starts from the ONNX file's own weights; training.init "fresh" would draw new ones ` +
        '(use base ground-truth or static-distillation to train a fresh graph first)',
    );
  // Checked before any query: the epoch must have as many minibatches as snapshots.
  try {
    snapshotSteps(n, context.training.batchSize, params.number('snapshotsPerEpoch'));
  } catch (error) {
    if (error instanceof TransferbenchError)
      throw new TransferbenchError(
        error.code,
        `${strategy}: ${error.message} (${n} images in batches of ${context.training.batchSize})`,
      );
    throw error;
  }
  const images = attackerSlice(context, 0, n);
  const truth = context.attackerLabels.subarray(0, n);
  const answers = needsAnswers
    ? targetsFromAnswer(await context.oracle.query(images, 'substitute-training'))
    : undefined;
  const targetsOf = (which: 'truth' | 'target') => (which === 'truth' ? truth : (answers as Int32Array | Float32Array));
  const start = await newSubstitute(context);
  const trained =
    base === 'given'
      ? start
      : await fit(start, context, images, targetsOf(base === 'ground-truth' ? 'truth' : 'target'), context.seed);
  const { snapshots } = await trainNetwork(
    trained,
    {
      images,
      imageShape: context.imageShape,
      targets: targetsOf(labels === 'truth' ? 'truth' : 'target'),
      classes: context.classes,
    },
    {
      epochs: params.number('extraEpochs'),
      batchSize: context.training.batchSize,
      learningRate: params.number('sgdLearningRate'),
      seed: context.seed + 1,
      sgd: { momentum: params.number('sgdMomentum'), weightDecay: params.number('weightDecay') },
      snapshotsPerEpoch: params.number('snapshotsPerEpoch'),
    },
  );
  return { base: trained, snapshots, images, queries: needsAnswers ? n : 0 };
}
