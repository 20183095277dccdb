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
