import type * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelCache } from '../attacks/index.js';
import { loadTfjs, saveTfjs } from '../compute/persist.js';
import { canonicalJson } from '../substitutes/index.js';

/**
 * The model cache the runner injects into an attack's prepare step: folders
 * `<cacheDir>/<prefix>-<hash>` named after the scope (the substitute, the label source) and the
 * attack's own key. With the cache off nothing is loaded, but what is fitted is still saved.
 */
export function directoryModelCache(
  cacheDir: string,
  prefix: string,
  scope: Readonly<Record<string, unknown>>,
  useCache: boolean,
): ModelCache {
  const dir = (key: Readonly<Record<string, unknown>>) =>
    join(
      cacheDir,
      `${prefix}-${createHash('sha256')
        .update(canonicalJson({ ...scope, ...key }))
        .digest('hex')
        .slice(0, 16)}`,
    );
  return {
    load: async (key) => {
      const path = dir(key);
      return useCache && existsSync(join(path, 'model.json')) ? loadTfjs(path) : undefined;
    },
    save: async (key, model: tf.LayersModel) => {
      const path = dir(key);
      mkdirSync(path, { recursive: true });
      await saveTfjs(model, path);
    },
  };
}
