import * as ort from 'onnxruntime-node';
import { TransferbenchError } from '../../common/errors.js';
import type { LossRequest, ModelVariant } from '../surrogate.js';
import { buildGradientModel } from './build.js';
import { drawGhost, erodeGraph, type GhostInput } from './ghost.js';
import { GRADIENT_IO, type OnnxModelDescription } from './heads.js';
import { decodeModel, type Graph } from './ir.js';
import { residualAdds, type BackwardTricks } from './tricks.js';

/** What the ONNX surrogate lends its model variants: the model and its session cache. */
export interface VariantHost {
  readonly name: string;
  readonly onnxBytes: Uint8Array;
  readonly description: OnnxModelDescription;
  /** The surrogate's own tricks (OnnxSurrogateOptions), under the variant's. */
  readonly tricks: BackwardTricks | undefined;
  sessionFor(key: string, build: () => Promise<Uint8Array>): Promise<ort.InferenceSession>;
}

/** A variant's gradient session and the extra feeds (a ghost's draws) every batch of this request runs with. */
export interface VariantSession {
  readonly session: ort.InferenceSession;
  readonly feeds: Readonly<Record<string, ort.Tensor>>;
}

/**
 * The gradient sessions of a surrogate's model variants (LossRequest.variant): one per loss and distinct variant,
 * built on first use and kept with the surrogate's others. A ghost's random values are inputs of its session, so
 * one session serves every iteration's ghost.
 */
export function variantSessions(host: VariantHost): (request: LossRequest) => Promise<VariantSession> {
  const ghostInputs = new Map<string, GhostInput[]>();
  return async (request) => {
    const variant = request.variant as ModelVariant;
    const { attack: _attack, ghost, ...backward } = variant;
    const shape = {
      ...backward,
      ...(ghost ? { ghost: { skipRange: ghost.skipRange, dropRate: ghost.dropRate } } : {}),
    };
    const key = `variant ${request.loss} ${JSON.stringify(shape)}`;
    const session = await host.sessionFor(key, async () =>
      buildGradientModel(host.onnxBytes, host.description, {
        loss: request.loss,
        tricks: {
          ...host.tricks,
          ...backward,
          ...checkVariantGraph(host.name, variant, decodeModel(host.onnxBytes), host.description.inputName),
        },
        rewrite: (graph, facts) => {
          if (!ghost) return { graph, facts };
          const eroded = erodeGraph(graph, facts, GRADIENT_IO.images);
          ghostInputs.set(key, eroded.inputs);
          return eroded;
        },
      }),
    );
    if (!ghost) return { session, feeds: {} };
    const inputs = ghostInputs.get(key) ?? [];
    const draws = drawGhost(inputs, ghost, ghost.seed, request.iteration ?? 0);
    return {
      session,
      feeds: Object.fromEntries(
        inputs.map((i) => [i.name, new ort.Tensor('float32', draws.get(i.name) as Float32Array, [...i.shape])]),
      ),
    };
  };
}

/**
 * One-line refusals of a variant a model's graph (as given, before the builder's rewrites) does not allow, naming the
 * attack: SGM on a network without skip connections, LinBP at a value the network does not have. Returns LinBP's start
 * as a node name: the builder's forward rewrites (a Relu moved after its MaxPool) rename values, not nodes, and a suite
 * names the values `targets inspect` lists. The runner calls it on a substitute's untrained network before training.
 */
export function checkVariantGraph(
  surrogate: string,
  variant: ModelVariant,
  graph: Graph,
  images: string,
): { linbp?: { after: string } } {
  if (variant.sgm && residualAdds(graph, images).length === 0)
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${variant.attack}: surrogate ${surrogate} has no residual Add (skip connection), where SGM would be plain ` +
        'MI-FGSM; attack a residual network (resnet8, resnet18) with it',
    );
  const after = variant.linbp?.after;
  if (after === undefined) return {};
  const node = graph.nodes.find((n) => n.name === after) ?? graph.nodes.find((n) => n.outputs.includes(after));
  if (node === undefined) {
    const relus = graph.nodes
      .filter((n) => n.opType === 'Relu')
      .slice(0, 4)
      .map((n) => n.outputs[0]);
    throw new TransferbenchError(
      'BAD_CONFIG',
      `${variant.attack}: linbpLayer: "${after}" is not a value of surrogate ${surrogate}; name one that ` +
        `\`transferbench targets inspect\` lists (its Relus: ${relus.join(', ') || 'none'})`,
    );
  }
  return { linbp: { after: node.name } };
}
