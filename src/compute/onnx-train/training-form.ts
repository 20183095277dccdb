import { TransferbenchError } from '../../common/errors.js';
import type { OnnxNetwork } from '../network/network.js';
import { initializerValues } from '../network/network.js';
import { nonChannelAxes, normalised, scaleAndShift, type RunningStatistics } from '../network/normalization.js';
import { Emitter } from '../onnx-gradient/emit.js';
import { DataType, tensorValues, valueInfo, type Graph, type Node } from '../onnx-gradient/ir.js';
import { probeGraph } from '../onnx-gradient/probe.js';

/**
 * A Dropout in training mode: the graph multiplies by the input `name`, which the engine fills
 * each step from its seeded generator with 0 or 1 / (1 - rate) (inverted dropout, as tfjs and
 * PyTorch draw it), so a run is repeatable and the mask is known. `shape` is one image's.
 */
export interface DropoutMask {
  readonly name: string;
  readonly shape: readonly number[];
  readonly rate: number;
}

/** The forward pass of a network as one training step runs it. */
export interface TrainingForm {
  /** From `input` to `output`, weights still initializers, masks as inputs. */
  readonly graph: Graph;
  readonly input: string;
  readonly output: string;
  readonly imageShape: readonly number[];
  readonly weights: readonly { readonly name: string; readonly shape: readonly number[] }[];
  readonly masks: readonly DropoutMask[];
  /** BatchNormalization's running statistics, updated by the engine after each step. */
  readonly statistics: readonly RunningStatistics[];
  /** The starting values of every weight and running statistic, by initializer name. */
  readonly initial: ReadonlyMap<string, Float32Array>;
}

/**
 * Rewrites a network's inference graph for training: every Dropout multiplies by a mask input;
 * every BatchNormalization normalises by its batch's own mean and (biased) variance, computed
 * in the graph so the gradient flows through them, and outputs them for the moving averages;
 * a MaxPool outputs its Indices, through which its gradient routes (max-pool-first.ts). The
 * values' shapes come from onnxruntime itself (probeGraph), so any graph of these operators
 * trains, whoever wrote it. `prefix` names the new nodes and masks (two networks in one graph).
 */
export async function trainingForm(
  network: Pick<OnnxNetwork, 'graph' | 'imageShape' | 'trainable'>,
  input: string,
  output: string,
  prefix = '',
): Promise<TrainingForm> {
  const graph = network.graph;
  const needsShapes = graph.nodes.some((n) => n.opType === 'Dropout' || n.opType === 'BatchNormalization');
  const facts = needsShapes
    ? await probeGraph({ ...graph, inputs: [valueInfo(input, DataType.FLOAT, ['batch', ...network.imageShape])] }, [
        { name: input, type: 'float32', dims: network.imageShape },
      ])
    : new Map();
  const emit = new Emitter(`${prefix}train`, graph.opset);
  const masks: DropoutMask[] = [];
  const statistics: RunningStatistics[] = [];
  const nodes: Node[] = [];
  const flushed = () => {
    const done = emit.done();
    nodes.push(...done.nodes.splice(0));
    return done;
  };
  const constants = new Map(graph.initializers);
  for (const node of graph.nodes) {
    switch (node.opType) {
      case 'Dropout': {
        if ((node.outputs[1] ?? '') !== '')
          throw refused(node, 'outputs its mask; only the first output of a Dropout is supported in training');
        const x = node.inputs[0] as string;
        const shape = facts.get(x)?.shape;
        if (shape === undefined || shape.slice(1).some((d: number) => d < 0))
          throw refused(node, `reads ${x}, whose shape after the batch is not static`);
        const name = `${prefix}mask${masks.length}`;
        masks.push({ name, shape: shape.slice(1), rate: dropoutRate(node, graph) });
        emit.node('Mul', [x, name], {}, node.outputs[0]);
        break;
      }
      case 'BatchNormalization': {
        const [x, scale, bias, mean, variance] = node.inputs as [string, string, string, string, string];
        const rank = facts.get(x)?.shape.length;
        if (rank === undefined) throw refused(node, `reads ${x}, whose shape the probe did not see`);
        const epsilon = attribute(node, 'epsilon', 1e-5);
        const batch = normalised(emit, x, nonChannelAxes('NCHW', rank), epsilon);
        const stat = (v: string, label: string) =>
          emit.node('Reshape', [v, emit.int64s([-1])], {}, `${prefix}statistics/${node.name}/${label}`);
        statistics.push({
          mean: { name: mean, output: stat(batch.mean, 'mean') },
          variance: { name: variance, output: stat(batch.variance, 'variance') },
          momentum: attribute(node, 'momentum', 0.9),
        });
        const value = scaleAndShift(emit, batch.value, 'NCHW', scale, bias, rank);
        emit.node('Identity', [value], {}, node.outputs[0]);
        break;
      }
      case 'MaxPool':
        nodes.push(
          (node.outputs[1] ?? '') === ''
            ? { ...node, outputs: [node.outputs[0] as string, `${node.name}/indices`] }
            : node,
        );
        continue;
      default:
        nodes.push(node);
        continue;
    }
    const done = flushed();
    for (const t of done.initializers) constants.set(t.name, t);
    done.initializers.length = 0;
  }
  const initial = new Map<string, Float32Array>();
  const weights = network.trainable.map((name) => {
    const { values, shape } = initializerValues(graph, name);
    initial.set(name, values);
    return { name, shape };
  });
  for (const s of statistics)
    for (const name of [s.mean.name, s.variance.name]) initial.set(name, initializerValues(graph, name).values);
  return {
    graph: {
      ...graph,
      nodes,
      initializers: constants,
      inputs: [
        valueInfo(input, DataType.FLOAT, ['batch', ...network.imageShape]),
        ...masks.map((m) => valueInfo(m.name, DataType.FLOAT, ['batch', ...m.shape])),
      ],
      outputs: [],
    },
    input,
    output,
    imageShape: network.imageShape,
    weights,
    masks,
    statistics,
    initial,
  };
}

/** Dropout's ratio: an input from opset 12, an attribute before; 0.5 by default. */
function dropoutRate(node: Node, graph: Graph): number {
  const ratio = node.inputs[1];
  if (ratio !== undefined && ratio !== '') {
    const t = graph.initializers.get(ratio);
    if (t === undefined) throw refused(node, `reads its ratio from ${ratio}, which is not a constant`);
    return tensorValues(t)[0] ?? 0.5;
  }
  return attribute(node, 'ratio', 0.5);
}

function attribute(node: Node, name: string, fallback: number): number {
  const a = node.attributes[name];
  return a?.kind === 'float' || a?.kind === 'int' ? a.value : fallback;
}

function refused(node: Node, why: string): TransferbenchError {
  return new TransferbenchError('BAD_MODEL', `ONNX training engine: node ${node.name} (${node.opType}) ${why}`);
}
