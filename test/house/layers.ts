import { posix } from 'node:path';

/**
 * The layers of src/, lowest first. A file may import from its own layer or any layer below it,
 * never from one above: the order is what lets a reader learn the code bottom up, and what keeps
 * the black-box boundary a type (transfer attacks sit below the oracle, so they cannot reach it).
 * Layers on one row are peers that must not import each other.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['common'],
  ['data', 'compute'],
  ['attacks'],
  ['targets'],
  ['oracle'],
  ['substitutes'],
  ['query-attacks'],
  ['records'],
  ['report'],
  ['runner'],
  ['deploy'],
  ['cli', 'index'],
];

/** The layer of a path under src/ (`src/attacks/fgsm.ts` -> `attacks`; `src/index.ts` -> `index`). */
export function layerOf(path: string): string {
  const parts = path.split('/');
  if (parts.length === 2) return (parts[1] as string).replace(/\.ts$/, '');
  return parts[1] as string;
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

/** Relative imports in a file's text, as repository paths (`.js` read as the `.ts` it compiles from). */
export function importsIn(text: string, file: string): string[] {
  return [...text.matchAll(IMPORT)].map((m) =>
    posix.normalize(posix.join(posix.dirname(file), (m[1] ?? m[2]) as string)).replace(/\.js$/, '.ts'),
  );
}

const RANK = new Map(LAYERS.flatMap((row, i) => row.map((layer) => [layer, i] as const)));

/** Imports that run to a higher layer, or sideways to a peer, as "from -> to". */
export function upwardImports(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const upward: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const from = layerOf(file);
      const to = layerOf(target);
      if (from !== to && (RANK.get(to) ?? -1) >= (RANK.get(from) ?? -1)) upward.push(`${file} -> ${target}`);
    }
  }
  return upward;
}

/** Import circles, each as the files around it. */
export function circles(graph: ReadonlyMap<string, readonly string[]>): string[] {
  const state = new Map<string, 'open' | 'done'>();
  const found: string[] = [];
  const visit = (file: string, path: string[]): void => {
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next].join(' -> '));
      else if (!state.has(next)) visit(next, [...path, next]);
    }
    state.set(file, 'done');
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
  return found;
}

export const isLayer = (layer: string): boolean => RANK.has(layer);
