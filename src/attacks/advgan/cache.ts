import type * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadTfjs, saveTfjs } from '../../compute/persist.js';
import type { AttackParams, LogitsModel } from '../types.js';
import { generatorOptions, trainGenerator } from './train.js';

/**
 * A trained AdvGAN generator from `dir` when one is there (and the cache is on), or a freshly
 * fitted one, saved there for next time. The caller names `dir` after everything the generator
 * depends on (substitute, parameters, training data) and disposes the result.
 */
export async function obtainGenerator(
  model: LogitsModel,
  training: { images: Float32Array; labels: Int32Array },
  imageShape: readonly [number, number, number],
  params: AttackParams,
  dir: string,
  useCache: boolean,
): Promise<{ generator: tf.LayersModel; fromCache: boolean }> {
  if (useCache && existsSync(join(dir, 'model.json'))) return { generator: await loadTfjs(dir), fromCache: true };
  const generator = trainGenerator(model, training.images, training.labels, imageShape, generatorOptions(params));
  mkdirSync(dir, { recursive: true });
  await saveTfjs(generator, dir);
  return { generator, fromCache: false };
}
