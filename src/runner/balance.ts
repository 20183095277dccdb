import * as tf from '@tensorflow/tfjs';
import { ATTACKS, resolveParams } from '../attacks/index.js';
import { numberOf } from '../common/params.js';
import { ARCHITECTURES } from '../compute/architectures.js';
import { NETWORKS } from '../compute/network/architectures.js';
import { loadZoo } from '../targets/zoo.js';
import { assignGroups, type Cell } from './grid.js';
import type { Suite } from './suite.js';

/**
 * Predicted work of each (target, substitute) group, in multiply-adds, so that `--shard-by cost`
 * can give every shard about as much to do. A model, not a measurement: training a substitute is
 * its training images x epochs x 3 passes (forward and backward) of its network; a cell is the
 * evaluation images x the attack's gradient steps x 3 passes of the substitute, plus two forward
 * passes of the target (clean and adversarial). Networks are costed by their layers' weights
 * (times output positions for convolutions) on 28 x 28 x 1 images.
 */
export interface CostModel {
  /** Multiply-adds of one forward pass of a zoo architecture. */
  readonly forward: (architecture: string) => number;
  /** The architecture of a target named in a suite, if the zoo knows it. */
  readonly targetArchitecture: (target: string) => string | undefined;
}

const IMAGE_SHAPE = [28, 28, 1] as const;
/** Training images of ground truth without a trainImages parameter: the embedded training split. */
const ATTACKER_IMAGES = 8000;

/** Multiply-adds of one forward pass of a network built from the architecture registry. */
export function forwardCost(architecture: string): number {
  // Written in ONNX: the builder counted its multiply-adds.
  if (!ARCHITECTURES.has(architecture)) {
    if (!NETWORKS.has(architecture)) return 0;
    return NETWORKS.get(architecture).build({ imageShape: IMAGE_SHAPE, classes: 10, seed: 0 }).multiplyAdds ?? 0;
  }
  const model = ARCHITECTURES.get(architecture).build({ imageShape: IMAGE_SHAPE, classes: 10, seed: 0 });
  try {
    let total = 0;
    for (const layer of model.layers) {
      const kernel = layer.getWeights()[0];
      if (kernel === undefined) continue;
      const shape = layer.outputShape as number[];
      // A convolution applies its kernel at every output position; other layers once per image.
      const positions = layer.getClassName() === 'Conv2D' ? (shape[1] ?? 1) * (shape[2] ?? 1) : 1;
      total += kernel.size * positions;
    }
    return total;
  } finally {
    model.dispose();
  }
}

/** The cost model of the shipped zoo (targets/zoo*.json) and architecture registry, memoised. */
export function zooCostModel(zooFiles: readonly string[]): CostModel {
  const forward = new Map<string, number>();
  const architectures = new Map<string, string>();
  for (const file of zooFiles)
    for (const recipe of loadZoo(file).targets) architectures.set(recipe.name, recipe.architecture);
  return {
    forward: (architecture) => {
      // A network outside the registry (a pretrained surrogate's, named after its model) has no
      // known cost: counted as free, so its groups are dealt in suite order, not refused.
      if (!ARCHITECTURES.has(architecture)) return 0;
      if (!forward.has(architecture))
        forward.set(
          architecture,
          tf.tidy(() => forwardCost(architecture)),
        );
      return forward.get(architecture) ?? 0;
    },
    targetArchitecture: (target) => architectures.get(target),
  };
}

/** Images the substitute's training passes over, all epochs and rounds counted. */
function trainingImages(cell: Cell): number {
  const { strategy, budget, params, training } = cell.substitute;
  const number = (key: string, fallback: number) =>
    typeof params[key] === 'number' ? (params[key] as number) : fallback;
  switch (strategy) {
    case 'white-box':
    case 'pretrained':
      return 0;
    case 'ground-truth':
      return number('trainImages', ATTACKER_IMAGES) * training.epochs;
    // Refitted after every round on a set growing to the budget: about half the budget on average.
    case 'dynamic-distillation':
      return budget * training.epochs * ((number('rounds', 4) + 2) / 2);
    case 'jacobian':
      return budget * training.epochs * ((number('rounds', 6) + 1) / 2);
    // The base's epochs (none for a given one), then the constant-rate ones, on the labelled images.
    case 'lgv':
    case 'swa': {
      const labelled =
        params.labels === 'target' || params.base === 'static-distillation'
          ? Math.min(budget, number('trainImages', ATTACKER_IMAGES))
          : number('trainImages', ATTACKER_IMAGES);
      return labelled * ((params.base === 'given' ? 0 : training.epochs) + number('extraEpochs', 10));
    }
    default:
      return budget * training.epochs;
  }
}

/** Gradient steps per image of a cell's attack (1 for an attack the registry does not know). */
function gradientSteps(cell: Cell): number {
  if (!ATTACKS.has(cell.attack)) return 1;
  const params = resolveParams(ATTACKS.get(cell.attack), cell.eps, cell.attackParams);
  const steps = numberOf(params, 'steps', 1);
  if (cell.attack === 'cw-l2') return steps * numberOf(params, 'binarySearchSteps', 1);
  if (cell.attack === 'advgan') return numberOf(params, 'epochs', 1) * 3;
  return steps;
}

/** Predicted work of every group of `cells`, by group key. */
export function groupCosts(suite: Suite, cells: readonly Cell[], model: CostModel): Map<string, number> {
  const costs = new Map<string, number>();
  for (const cell of cells) {
    const substitute = model.forward(cell.substitute.architecture);
    const targetArchitecture = model.targetArchitecture(cell.target);
    const target = targetArchitecture === undefined ? substitute : model.forward(targetArchitecture);
    const training = costs.has(cell.group) ? 0 : trainingImages(cell) * 3 * substitute;
    const attack = suite.evaluationSize * (gradientSteps(cell) * 3 * substitute + 2 * target);
    costs.set(cell.group, (costs.get(cell.group) ?? 0) + training + attack);
  }
  return costs;
}

export interface ShardBalance {
  /** Predicted work per shard, shard 1 first. */
  readonly work: number[];
  /** Largest over mean: 1 is perfect balance. */
  readonly maxOverMean: number;
}

/** How evenly `n` shards share the predicted work, dealt round robin or by cost. */
export function shardBalance(
  cells: readonly Cell[],
  costs: ReadonlyMap<string, number>,
  n: number,
  byCost: boolean,
): ShardBalance {
  const groups = [...new Set(cells.map((c) => c.group))];
  const owner = assignGroups(groups, n, byCost ? costs : undefined);
  const work = new Array<number>(n).fill(0);
  for (const g of groups) work[owner.get(g) ?? 0] = (work[owner.get(g) ?? 0] ?? 0) + (costs.get(g) ?? 0);
  const mean = work.reduce((s, w) => s + w, 0) / n;
  return { work, maxOverMean: mean === 0 ? 1 : Math.max(...work) / mean };
}
