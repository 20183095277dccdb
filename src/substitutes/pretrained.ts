import { badOption, TransferbenchError } from '../common/errors.js';
import type { BackwardTricks } from '../compute/onnx-gradient/index.js';
import type { ResolvedParams } from './params.js';
import type { SubstituteStrategy } from './types.js';

/**
 * How a pretrained surrogate appears in the architecture column of leaderboards: the folder of
 * a `.../<name>/target.json`, else the descriptor file's name without `.json`.
 */
export function ownedModelLabel(descriptorPath: string): string {
  const parts = descriptorPath.split(/[\\/]/).filter((p) => p !== '');
  const file = parts[parts.length - 1] ?? descriptorPath;
  return file === 'target.json' && parts.length > 1 ? (parts[parts.length - 2] as string) : file.replace(/\.json$/, '');
}

/** The required `model` parameter (it has no default, so a missing one reads as undefined). */
function modelPath(params: ResolvedParams): string {
  let path = '';
  try {
    path = params.string('model');
  } catch {
    // Not given: reported below with what is expected.
  }
  if (path === '')
    throw badOption('pretrained: model', null, 'the path of a target.json-format descriptor of the surrogate');
  return path;
}

/**
 * The model-related tricks a suite names on a pretrained surrogate: they change its backward pass only, so they
 * belong to the surrogate the attack is crafted on, not to the attack.
 */
function backwardTricks(params: ResolvedParams): BackwardTricks | undefined {
  const gamma = params.number('sgmGamma');
  const after = params.string('linbpAfter');
  if (gamma === 0) throw badOption('pretrained: sgmGamma', 0, 'a number in (0, 1] (1 is off)');
  if (gamma === 1 && after === '') return undefined;
  return { ...(gamma < 1 ? { sgm: { gamma } } : {}), ...(after !== '' ? { linbp: { after } } : {}) };
}

/**
 * A model the attacker already owns (a PyTorch or Keras classifier exported to ONNX, described
 * in the target.json format): the attack is crafted white-box on it through onnxruntime and a
 * generated backward pass. Nothing is trained and no query is spent; like every strategy, its
 * fidelity to the target is measured on held-out images with evaluation queries, counted apart.
 */
export const pretrained: SubstituteStrategy = {
  name: 'pretrained',
  description:
    "the attacker's own ONNX classifier (e.g. a PyTorch export) given by a target.json-format descriptor; white-box on it, spends no queries",
  reference: false,
  cacheable: false,
  parameters: [
    {
      name: 'model',
      range: { type: 'string' },
      description:
        "required: path to the surrogate's descriptor (target.json format; `transferbench targets inspect MODEL.onnx --write` drafts one)",
    },
    {
      name: 'threads',
      range: { type: 'integer', minimum: 1 },
      default: 1,
      description: 'onnxruntime threads for the surrogate (the runner already runs one group per core)',
    },
    {
      name: 'sgmGamma',
      range: { type: 'number', minimum: 0, maximum: 1 },
      default: 1,
      description:
        "SGM (Wu et al. 2002.05990): residual branches' gradients times gamma at every skip Add; 1 is off " +
        '(TransferAttack: 0.5 on ResNets)',
    },
    {
      name: 'linbpAfter',
      range: { type: 'string' },
      default: '',
      description:
        'LinBP (Guo et al. 2012.03528): every Relu after this node (a name `targets inspect` lists) back-propagates ' +
        'linearly; empty is off',
    },
  ],
  train: async (context, params) => {
    const path = modelPath(params);
    const threads = params.number('threads');
    const tricks = backwardTricks(params);
    if (context.openOwnedModel === undefined)
      throw new TransferbenchError(
        'BAD_OPTION',
        'pretrained: this runner cannot open models (no openOwnedModel in the substitute context)',
      );
    const owned = await context
      .openOwnedModel(path, { threads, ...(tricks ? { tricks } : {}) })
      .catch((error: unknown) => {
        // The builder checks the node name against the graph; the suite knows the key as linbpAfter.
        if (error instanceof TransferbenchError && error.message.includes('tricks.linbp.after'))
          throw new TransferbenchError(
            error.code,
            error.message.replace('tricks.linbp.after', 'pretrained: linbpAfter'),
          );
        throw error;
      });
    const { surrogate } = owned;
    const [h, w, c] = context.imageShape;
    if (surrogate.imageShape.join('x') !== context.imageShape.join('x') || surrogate.classes !== context.classes) {
      await surrogate.dispose();
      throw new TransferbenchError(
        'BAD_MODEL',
        `pretrained: ${path} takes ${surrogate.imageShape.join('x')} ` +
          `images (HxWxC) and has ${surrogate.classes} classes, but the ` +
          `data set has ${h}x${w}x${c} images and ${context.classes} classes; ` +
          `use a surrogate made for this data`,
      );
    }
    return {
      surrogate,
      fingerprint: owned.sha256,
      rounds: [{ round: 0, queries: 0, fidelity: await context.measureFidelity(surrogate) }],
    };
  },
};
