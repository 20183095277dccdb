import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atomicWrite } from '../common/files.js';
import { registerCustomLayers } from './layers/index.js';

/** tfjs weights in the layers format (model.json + weights.bin), without tfjs-node's file handler. */
export async function saveTfjs(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      atomicWrite(join(dir, 'weights.bin'), new Uint8Array(artifacts.weightData as ArrayBuffer));
      const metadata =
        artifacts.userDefinedMetadata !== undefined ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {};
      atomicWrite(
        join(dir, 'model.json'),
        JSON.stringify({
          modelTopology: artifacts.modelTopology,
          weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
          ...metadata,
        }),
      );
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
}

/** Loads what saveTfjs wrote. */
export async function loadTfjs(dir: string): Promise<tf.LayersModel> {
  registerCustomLayers();
  const manifest = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[];
    userDefinedMetadata?: Record<string, unknown>;
  };
  const weights = readFileSync(join(dir, 'weights.bin'));
  return tf.loadLayersModel(
    tf.io.fromMemory({
      modelTopology: manifest.modelTopology,
      weightSpecs: manifest.weightsManifest[0]?.weights ?? [],
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
      ...(manifest.userDefinedMetadata !== undefined ? { userDefinedMetadata: manifest.userDefinedMetadata } : {}),
    }),
  );
}
