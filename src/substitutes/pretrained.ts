import { badOption, TransferbenchError } from '../common/errors.js';
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
 * A model the attacker already owns (a PyTorch or Keras classifier exported to ONNX, described
 * in the target.json format): the attack is crafted white-box on it through onnxruntime and a
 * generated backward pass. Nothing is trained and no query is spent; like every strategy, its
 * fidelity to the target is measured on held-out images with evaluation queries, counted apart.
 */
export const pretrained: SubstituteStrategy = {
  name: 'pretrained',
  description:
    "the attacker's own ONNX classifier (e.g. a PyTorch export) given by a target.json-format descriptor; " +
    'white-box on it, spends no queries',
  reference: false,
  cacheable: false,
  parameters: [
    {
      name: 'model',
      range: { type: 'string' },
      description:
        "required: path to the surrogate's descriptor (target.json format; `transferbench targets inspect " +
        'MODEL.onnx --write` drafts one)',
    },
    {
      name: 'threads',
      range: { type: 'integer', minimum: 1 },
      default: 1,
      description: 'onnxruntime threads for the surrogate (the runner already runs one group per core)',
    },
  ],
  train: async (context, params) => {
    const path = modelPath(params);
    const threads = params.number('threads');
    if (context.openOwnedModel === undefined)
      throw new TransferbenchError(
        'BAD_OPTION',
        'pretrained: this runner cannot open models (no openOwnedModel in the substitute context)',
      );
    // SGM, LinBP and Ghost networks are attacks (attacks/sgm.ts, ...), so the surrogate is opened plain.
    const owned = await context.openOwnedModel(path, { threads });
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
