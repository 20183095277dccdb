import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TransferbenchError } from '../../common/errors.js';
import { atomicWrite } from '../../common/files.js';
import { loadTfjs } from '../persist.js';
import { type ImageNetwork, imageNetworkBytes, imageNetworkFromTfjs } from './image-network.js';
import { bytesHash } from './network.js';
import { readSavedGraph } from './persist.js';

/** What a folder holds beside model.onnx: how to read the graph, what trained it, and the bytes' hash. */
interface ImageNetworkManifest {
  readonly architecture: string;
  /** The training engine that fitted the weights. */
  readonly engine: string;
  readonly imageShape: readonly [number, number, number];
  readonly outputShape: readonly number[];
  readonly trainable: readonly string[];
  readonly sha256: string;
}

/** What a loader expects of a saved network; a folder naming anything else is refused. */
export interface ExpectedNetwork {
  readonly architecture: string;
  readonly engine: string;
}

const MODEL = 'model.onnx';
const MANIFEST = 'network.json';

/** Writes model.onnx and network.json into `dir`; returns the model's sha256 (16 hex digits). */
export function saveImageNetwork(network: ImageNetwork, dir: string, engine: string): string {
  const bytes = imageNetworkBytes(network);
  const sha256 = bytesHash(bytes);
  atomicWrite(join(dir, MODEL), bytes, `the ${network.architecture} model`);
  const { graph: _graph, ...rest } = network;
  const manifest: ImageNetworkManifest = { ...rest, engine, sha256 };
  atomicWrite(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return sha256;
}

/**
 * Reads what saveImageNetwork wrote, checking the model against its sha256 and the manifest
 * against what the caller expects; undefined for a folder holding neither it nor a tfjs model.
 * A folder from before ONNX generators (tfjs model.json and weights.bin) is converted in place:
 * the same weights, so a cached generator keeps its numbers rather than being retrained.
 */
export async function loadImageNetwork(dir: string, expected: ExpectedNetwork): Promise<ImageNetwork | undefined> {
  const manifestPath = join(dir, MANIFEST);
  if (!existsSync(manifestPath)) {
    if (!existsSync(join(dir, 'model.json'))) return undefined;
    const model = await loadTfjs(dir);
    try {
      const network = imageNetworkFromTfjs(model, expected.architecture);
      saveImageNetwork(network, dir, expected.engine);
      return network;
    } finally {
      model.dispose();
    }
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ImageNetworkManifest;
  for (const field of ['architecture', 'engine'] as const)
    if (manifest[field] !== expected[field])
      throw new TransferbenchError(
        'BAD_MODEL',
        `${manifestPath}: ${field} ${manifest[field]}, expected ${expected[field]}; remove the folder`,
      );
  return {
    architecture: manifest.architecture,
    graph: readSavedGraph(dir, manifest.sha256),
    imageShape: manifest.imageShape,
    outputShape: manifest.outputShape,
    trainable: manifest.trainable,
  };
}
