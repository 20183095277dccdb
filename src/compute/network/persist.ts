import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransferbenchError } from '../../common/errors.js';
import { atomicWrite } from '../../common/files.js';
import { decodeModel, type Graph } from '../onnx-gradient/ir.js';
import { loadTfjs } from '../persist.js';
import { convertTfjs } from './from-tfjs.js';
import { bytesHash, networkBytes, networkHash, type OnnxNetwork } from './network.js';

/** What a folder holds beside model.onnx: how to read the graph as a network. */
interface NetworkManifest {
  readonly architecture: string;
  readonly imageShape: readonly [number, number, number];
  readonly classes: number;
  readonly outputKind: OnnxNetwork['outputKind'];
  readonly trainable: readonly string[];
  readonly sha256: string;
}

const MODEL = 'model.onnx';
const MANIFEST = 'network.json';

/** Writes model.onnx and network.json into `dir`; returns the model's sha256 (16 hex digits). */
export function saveNetwork(network: OnnxNetwork, dir: string): string {
  const sha256 = networkHash(network);
  atomicWrite(join(dir, MODEL), networkBytes(network), 'the substitute model');
  const { graph: _graph, ...rest } = network;
  atomicWrite(join(dir, MANIFEST), `${JSON.stringify({ ...rest, sha256 } satisfies NetworkManifest, null, 2)}\n`);
  return sha256;
}

/**
 * Reads what saveNetwork wrote, checking the model against the sha256 it was saved with. A
 * folder from before networks (tfjs model.json and weights.bin) is converted in place: the same
 * weights, so a cached substitute keeps its numbers rather than being retrained.
 */
export async function loadNetwork(dir: string, architecture: string): Promise<OnnxNetwork> {
  const manifestPath = join(dir, MANIFEST);
  if (!existsSync(manifestPath)) {
    if (!existsSync(join(dir, 'model.json')))
      throw new TransferbenchError('IO_ERROR', `${dir}: neither ${MANIFEST} nor a tfjs model.json; remove the folder`);
    const model = await loadTfjs(dir);
    try {
      const network = { ...convertTfjs(model).network, architecture };
      saveNetwork(network, dir);
      return network;
    } finally {
      model.dispose();
    }
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as NetworkManifest;
  return {
    architecture: manifest.architecture,
    graph: readSavedGraph(dir, manifest.sha256),
    imageShape: manifest.imageShape,
    classes: manifest.classes,
    outputKind: manifest.outputKind,
    trainable: manifest.trainable,
  };
}

/** `dir`/model.onnx decoded, refused in one line unless its bytes have the sha256 they were saved with. */
export function readSavedGraph(dir: string, sha256: string): Graph {
  const path = join(dir, MODEL);
  const bytes = readFileSync(path);
  const actual = bytesHash(bytes);
  if (actual !== sha256)
    throw new TransferbenchError(
      'BAD_MODEL',
      `${path}: sha256 ${actual} differs from the ${sha256} it was saved with; remove the folder`,
    );
  return decodeModel(bytes);
}
