import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelCache } from '../attacks/index.js';
import { loadImageNetwork, saveImageNetwork } from '../compute/network/image-persist.js';
import { canonicalJson } from '../substitutes/index.js';

/**
 * The model cache the runner injects into an attack's prepare step: folders
 * `<cacheDir>/<prefix>-<hash>` named after the scope (the substitute, the label source) and the
 * attack's own key, each holding model.onnx and network.json (architecture, engine, sha256; a
 * folder of an older tfjs model.json is converted in place). With the cache off nothing is
 * loaded, but what is fitted is still saved.
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
    load: async (key, expected) => (useCache ? loadImageNetwork(dir(key), expected) : undefined),
    save: async (key, network, engine) => {
      const path = dir(key);
      mkdirSync(path, { recursive: true });
      saveImageNetwork(network, path, engine);
    },
  };
}
