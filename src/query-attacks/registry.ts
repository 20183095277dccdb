import { resolveParams } from '../common/params.js';
import { badOption } from '../common/errors.js';
import { Registry } from '../common/registry.js';
import type { Norm } from '../attacks/types.js';
import { bandits } from './bandits.js';
import { boundary } from './boundary.js';
import { evolutionary } from './evolutionary.js';
import { geoda } from './geoda.js';
import { hopSkipJump } from './hop-skip-jump.js';
import { nes } from './nes.js';
import { bases } from './bases.js';
import { gfcs } from './gfcs.js';
import { pRgf } from './p-rgf.js';
import { simbaOds } from './simba-ods.js';
import { subspace } from './subspace.js';
import { parsimonious } from './parsimonious.js';
import { rays } from './rays.js';
import { simbaDct } from './simba-dct.js';
import { signFlip } from './sign-flip.js';
import { signHunter } from './sign-hunter.js';
import { signOpt } from './sign-opt.js';
import { simbaPixel } from './simba-pixel.js';
import { squareL2 } from './square-l2.js';
import { squareLinf } from './square-linf.js';
import type { QueryAttack, QueryParams } from './types.js';
import { zoSignSgd } from './zo-sign-sgd.js';

/** Every query attack, in the order `transferbench list query-attacks` shows them. */
export const QUERY_ATTACKS = new Registry<QueryAttack>('query attack')
  .add(squareLinf.name, squareLinf)
  .add(squareL2.name, squareL2)
  .add(simbaPixel.name, simbaPixel)
  .add(simbaDct.name, simbaDct)
  .add(nes.name, nes)
  .add(signHunter.name, signHunter)
  .add(bandits.name, bandits)
  .add(zoSignSgd.name, zoSignSgd)
  .add(parsimonious.name, parsimonious)
  .add(hopSkipJump.name, hopSkipJump)
  .add(boundary.name, boundary)
  .add(signOpt.name, signOpt)
  .add(rays.name, rays)
  .add(geoda.name, geoda)
  .add(evolutionary.name, evolutionary)
  .add(signFlip.name, signFlip)
  .add(pRgf.name, pRgf)
  .add(simbaOds.name, simbaOds)
  .add(gfcs.name, gfcs)
  .add(bases.name, bases)
  .add(subspace.name, subspace);

/** The attack's defaults for this norm, eps and image shape, overridden by `overrides`; checked. */
export function resolveQueryParams(
  attack: QueryAttack,
  norm: Norm,
  eps: number,
  shape: readonly [number, number, number],
  overrides: Readonly<Record<string, number | string>>,
): QueryParams {
  if (!attack.norms.includes(norm))
    throw badOption(`${attack.name}: norm`, norm, attack.norms.map((n) => `"${n}"`).join(' or '));
  if (!(eps > 0 && Number.isFinite(eps))) throw badOption(`${attack.name}: eps`, eps, 'a positive number');
  // Every declared range admits numbers or strings only, so the resolved values are QueryParams.
  return resolveParams(attack.name, attack.parameters, overrides, { context: { norm, eps, shape } }) as QueryParams;
}
