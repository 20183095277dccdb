import { TransferbenchError } from '../../common/errors.js';
import { Random } from '../../common/random.js';
import { DataType, valueInfo, type Graph, type Node } from './ir.js';
import type { Facts, ValueFacts } from './probe.js';
import { branchOf, nodeDepths, residualAdds } from './tricks.js';

/**
 * Ghost networks (Li et al. 1812.03413): every gradient of the attack is taken on a ghost, the surrogate eroded at
 * random, drawn anew at each iteration (the paper's longitudinal ensemble). TransferAttack's defaults
 * (model_related/ghost.py and ghost_networks/resnet.py): skip erosion range 0.16, dropout keep probability 0.994.
 */
export interface GhostErosion {
  /**
   * Skip connection erosion: at every residual Add the skip input is multiplied by lambda ~ U[1 - r, 1 + r], one
   * lambda per channel (axis 1) as TransferAttack's GhostBasicBlock draws it, shape (1, c, 1, 1).
   */
  readonly skipRange: number;
  /**
   * Dropout erosion, for a network without residual Adds: every Relu's output is kept with probability 1 - rate and
   * scaled by 1 / (1 - rate) (the paper's eq. 3), one mask per position broadcast over the batch.
   */
  readonly dropRate: number;
}

/** One random value the eroded graph reads: a graph input, the same for every image of the batch. */
export interface GhostInput {
  readonly name: string;
  readonly kind: 'skip' | 'dropout';
  /** With a leading 1 for the batch. */
  readonly shape: readonly number[];
}

const PREFIX = 'transferbench/ghost';

/** One image's dimensions of a value whose first dimension is the batch. */
function perImage(value: string, facts: ValueFacts | undefined): number[] {
  const shape = facts?.shape ?? [];
  if (shape[0] !== -1 || shape.slice(1).some((d) => d < 1))
    throw new TransferbenchError(
      'BAD_MODEL',
      `ghost: value ${value} has shape [${shape.join(', ')}]; erosion needs a batch-first value of fixed size`,
    );
  return shape.slice(1);
}

/**
 * The graph with the erosion's multiplications inserted and the random values as extra inputs (the plain forward
 * graph is not modified). A network with residual Adds gets skip erosion; any other, dropout erosion on its Relus.
 */
export function erodeGraph(
  graph: Graph,
  facts: Facts,
  images: string,
): { graph: Graph; facts: Facts; inputs: GhostInput[] } {
  const adds = new Set(residualAdds(graph, images));
  const depth = nodeDepths(graph);
  const relus = new Set(adds.size > 0 ? [] : residualFreeRelus(graph, images));
  const known = new Map(facts);
  const inputs: GhostInput[] = [];
  const nodes: Node[] = [];
  const ghostInput = (kind: GhostInput['kind'], shape: number[]) => {
    const name = `${PREFIX}/${kind}_${inputs.length}`;
    inputs.push({ name, kind, shape: [1, ...shape] });
    known.set(name, { type: 'float32', shape: [1, ...shape] });
    return name;
  };
  for (const node of graph.nodes) {
    if (adds.has(node)) {
      const branch = branchOf(node, depth);
      const skip = node.inputs[1 - branch] as string;
      const dims = perImage(skip, facts.get(skip));
      const lambda = ghostInput(
        'skip',
        dims.map((d, axis) => (axis === 0 ? d : 1)),
      );
      const eroded = `${skip}/ghost_${inputs.length - 1}`;
      nodes.push(mul(eroded, skip, lambda));
      known.set(eroded, facts.get(skip) as ValueFacts);
      nodes.push({ ...node, inputs: node.inputs.map((v, i) => (i === branch ? v : eroded)) });
    } else if (relus.has(node)) {
      const output = node.outputs[0] as string;
      const mask = ghostInput('dropout', perImage(output, facts.get(output)));
      const kept = `${output}/undropped`;
      nodes.push({ ...node, outputs: [kept] });
      known.set(kept, facts.get(output) as ValueFacts);
      nodes.push(mul(output, kept, mask));
    } else {
      nodes.push(node);
    }
  }
  return {
    graph: {
      ...graph,
      nodes,
      inputs: [...graph.inputs, ...inputs.map((i) => valueInfo(i.name, DataType.FLOAT, i.shape))],
    },
    facts: known,
    inputs,
  };
}

/**
 * Relus on the images' path (a network without residual Adds: each is a layer's output). The builder has already
 * moved a Relu that fed a MaxPool past it (commuteReluMaxPool), so such a layer's mask falls on the pooled output.
 */
function residualFreeRelus(graph: Graph, images: string): Node[] {
  const dependent = new Set([images]);
  const relus: Node[] = [];
  for (const node of graph.nodes) {
    if (!node.inputs.some((i) => dependent.has(i))) continue;
    for (const o of node.outputs) dependent.add(o);
    if (node.opType === 'Relu') relus.push(node);
  }
  return relus;
}

function mul(output: string, value: string, factor: string): Node {
  return { opType: 'Mul', name: `${output}/mul`, inputs: [value, factor], outputs: [output], attributes: {} };
}

/**
 * The ghost of one iteration: every input's values from a stream of (seed, iteration) alone, so a seeded run repeats
 * bit for bit, the same ghost answers every image and every batch of the iteration, and the next draws anew.
 */
export function drawGhost(
  inputs: readonly GhostInput[],
  erosion: GhostErosion,
  seed: number,
  iteration: number,
): Map<string, Float32Array> {
  const random = new Random(seed).fork(`ghost/${iteration}`);
  const keep = 1 / (1 - erosion.dropRate);
  const draws = new Map<string, Float32Array>();
  for (const input of inputs) {
    const values = new Float32Array(input.shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < values.length; i++) {
      const u = random.next();
      values[i] =
        input.kind === 'skip' ? 1 - erosion.skipRange + 2 * erosion.skipRange * u : u < erosion.dropRate ? 0 : keep;
    }
    draws.set(input.name, values);
  }
  return draws;
}
