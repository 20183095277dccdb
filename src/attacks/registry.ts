import { badOption } from '../common/errors.js';
import { Registry } from '../common/registry.js';
import type { Surrogate } from '../compute/surrogate.js';
import type { SyncSurrogate } from '../compute/tfjs-surrogate.js';
import { advgan } from './advgan/index.js';
import { bim } from './bim.js';
import { compose } from './compositions.js';
import { drive, driveSync, type Crafting } from './crafting.js';
import { cwL2 } from './cw-l2.js';
import { fgsm } from './fgsm.js';
import { fia } from './fia.js';
import { ghost } from './ghost.js';
import { predictedLabels } from './gradient-loop.js';
import { iFgsm } from './i-fgsm.js';
import { ila } from './ila.js';
import { ilpd } from './ilpd.js';
import { iterLl } from './iter-ll.js';
import { linbp } from './linbp.js';
import { logit } from './logit.js';
import { miFgsm } from './mi-fgsm.js';
import { naa } from './naa.js';
import { niFgsm } from './ni-fgsm.js';
import { type ParamValue, type ParamValues, resolveParams as resolveDeclared } from '../common/params.js';
import { pgd } from './pgd.js';
import { piFgsm } from './pi-fgsm.js';
import { randFgsm } from './rand-fgsm.js';
import { sgm } from './sgm.js';
import { stepLl } from './step-ll.js';
import { TRANSFORMS } from './transforms/registry.js';
import type { Attack, LabelledImages, LabelSource, Prepared } from './types.js';
import { HARNESS_PARAMETERS } from './vocabulary.js';
import { vmiFgsm } from './vmi-fgsm.js';
import { vniFgsm } from './vni-fgsm.js';

const BASE = [
  fgsm,
  stepLl,
  randFgsm,
  bim,
  iterLl,
  pgd,
  iFgsm,
  miFgsm,
  niFgsm,
  vmiFgsm,
  vniFgsm,
  piFgsm,
  cwL2,
  advgan,
  fia,
  naa,
  ila,
  ilpd,
  sgm,
  linbp,
  ghost,
];

/**
 * Every attack transferbench knows, in the order `transferbench list attacks` shows them: the
 * methods, then the common compositions of a method with input transformations under the names
 * the literature gives them (any other composition is named in a suite by `transforms`).
 */
export const ATTACKS = BASE.reduce(
  (registry, attack) => registry.add(attack.name, attack),
  new Registry<Attack>('attack'),
)
  .add('di-mi-fgsm', compose(miFgsm, ['di'], 'di-mi-fgsm'))
  .add('ti-di-mi-fgsm', compose(miFgsm, ['di', 'ti'], 'ti-di-mi-fgsm'))
  .add('si-ni-fgsm', compose(niFgsm, ['si'], 'si-ni-fgsm'))
  .add('admix', compose(miFgsm, ['admix'], 'admix'))
  .add('logit', logit);

/**
 * The attack a suite entry names: a registered attack, with input transformations stacked on it
 * when `transforms` lists any (named "mi-fgsm+di+ti").
 */
export function attackFor(name: string, transforms: readonly string[] = []): Attack {
  const attack = ATTACKS.get(name);
  if (transforms.length === 0) return attack;
  transforms.forEach((t) => TRANSFORMS.get(t));
  return compose(attack, transforms);
}

/**
 * Fills in the attack's defaults (computed from eps and the parameters before them) under the overrides, and checks
 * every value.
 */
export function resolveParams(
  attack: Attack,
  eps: number,
  overrides: Readonly<Record<string, unknown>> = {},
): ParamValues {
  if (!(typeof eps === 'number' && eps >= 0 && eps <= 1))
    throw badOption(`${attack.name}: eps`, eps, 'a number in [0, 1]');
  return resolveDeclared(attack.name, [...attack.parameters, ...HARNESS_PARAMETERS], overrides, { initial: { eps } });
}

export interface CraftRequest {
  readonly images: Float32Array;
  /** Ground truth. */
  readonly trueLabels: Int32Array;
  readonly ids: readonly number[];
  readonly eps: number;
  readonly labelSource: LabelSource;
  /** Target classes for a targeted attack. */
  readonly targetLabels?: Int32Array;
  readonly params?: Readonly<Record<string, unknown>>;
  /** Input transformations stacked on the attack (names in TRANSFORMS). */
  readonly transforms?: readonly string[];
  /** Labelled attacker images (labels already resolved by label source, see `resolvePoolLabels`). */
  readonly pool?: LabelledImages;
  /** What the attack's prepare step produced for this cell. */
  readonly prepared?: Prepared;
}

/**
 * The crafting of one request: the labels the attack moves away from are the truth or the
 * surrogate's own prediction (Kurakin et al.'s label leaking hinges on this); a targeted attack
 * moves towards `targetLabels`.
 */
function* crafting(
  attackName: string,
  imageShape: readonly [number, number, number],
  request: CraftRequest,
): Crafting<Float32Array> {
  const attack = attackFor(attackName, request.transforms);
  const params = resolveParams(attack, request.eps, request.params);
  if (params.targeted && request.targetLabels === undefined && attack.usesLabels) {
    throw badOption(`${attack.name}: targeted`, true, 'targetLabels for a targeted attack');
  }
  const count = request.trueLabels.length;
  const labels =
    params.targeted && request.targetLabels
      ? request.targetLabels
      : request.labelSource === 'predicted'
        ? yield* predictedLabels(request.images, count)
        : request.trueLabels;
  const batch = {
    images: request.images,
    imageShape,
    labels,
    trueLabels: request.trueLabels,
    ids: request.ids,
    ...(request.pool ? { pool: request.pool } : {}),
    ...(request.prepared ? { prepared: request.prepared } : {}),
  };
  return yield* attack.craft(batch, params, []);
}

/** Crafts adversarial images on a surrogate with the named attack (and transformations). */
export function craftAdversarial(
  attackName: string,
  surrogate: Surrogate,
  request: CraftRequest,
): Promise<Float32Array> {
  return drive(surrogate, crafting(attackName, surrogate.imageShape, request));
}

/** The same, synchronously, on a tfjs surrogate (inside synchronous training loops). */
export function craftAdversarialSync(
  attackName: string,
  surrogate: SyncSurrogate,
  request: CraftRequest,
): Float32Array {
  return driveSync(surrogate, crafting(attackName, surrogate.imageShape, request));
}

/** Pool images' labels by label source: the truth, or the surrogate's predictions (256 at a time). */
export async function resolvePoolLabels(
  surrogate: Surrogate,
  pool: LabelledImages,
  source: LabelSource,
): Promise<LabelledImages> {
  if (source === 'true') return pool;
  const count = pool.labels.length;
  const size = pool.images.length / Math.max(1, count);
  const labels = new Int32Array(count);
  for (let start = 0; start < count; start += 256) {
    const n = Math.min(256, count - start);
    labels.set(
      await drive(surrogate, predictedLabels(pool.images.subarray(start * size, (start + n) * size), n)),
      start,
    );
  }
  return { images: pool.images, labels };
}

/** Parameters the harness sets itself (never part of what a suite chose). */
const HARNESS_SET = new Set(['seed', 'targeted']);

/**
 * What tells a cell's attack apart in records and leaderboards: the canonical label, the name
 * with the parameters the suite set to something other than their default, in declaration order
 * ("pgd(steps=40)"; "pgd" when nothing differs), and every resolved parameter the attack and its
 * transformations declare. A value equal to its default is not in the label, so a suite that
 * spells a default out gets the same row as one that does not.
 */
export function attackIdentity(
  attack: Attack,
  eps: number,
  overrides: Readonly<Record<string, unknown>> = {},
): { label: string; params: Readonly<Record<string, number | string | boolean>> } {
  const resolved = resolveParams(attack, eps, overrides);
  const declared = attack.parameters.map((p) => p.name as string);
  const chosen = Object.keys(overrides)
    .filter((k) => !HARNESS_SET.has(k) && overrides[k] !== undefined)
    .filter((k) => {
      const { [k]: _, ...others } = overrides;
      return resolveParams(attack, eps, others)[k] !== overrides[k];
    })
    .sort((a, b) => declared.indexOf(a) - declared.indexOf(b));
  const label =
    chosen.length === 0
      ? attack.name
      : `${attack.name}(${chosen.map((k) => `${k}=${String(overrides[k])}`).join(',')})`;
  return { label, params: Object.fromEntries(declared.map((k) => [k, resolved[k] as ParamValue])) };
}
