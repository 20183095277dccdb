import { badOption } from '../common/errors.js';
import { NORMS, TRANSFER_LOSSES, type AttackParams } from './attack-params.js';

type Value = AttackParams[keyof AttackParams];

/** The range of a parameter, in JSON-Schema terms (the suite schema uses it as is). */
export interface ParamRange {
  readonly type: 'integer' | 'number' | 'boolean' | 'string';
  readonly minimum?: number;
  readonly maximum?: number;
  readonly exclusiveMinimum?: number;
  readonly enum?: readonly string[];
  /** Integers only: must be odd (kernel sizes). */
  readonly odd?: boolean;
}

/** What every parameter is, whoever takes it: its range, its meaning and the value it has when nobody sets it. */
interface Catalogued {
  readonly range: ParamRange;
  readonly description: string;
  readonly fallback: (resolved: Readonly<Record<string, Value>>) => Value;
  /** Set by the harness (seed from the suite, targeted from the request), never in a suite's params. */
  readonly internal?: boolean;
}

const positiveInteger: ParamRange = { type: 'integer', minimum: 1 };
const nonNegative: ParamRange = { type: 'number', minimum: 0 };
const positive: ParamRange = { type: 'number', exclusiveMinimum: 0 };

/** The one catalogue of attack and transformation parameters. */
export const PARAMETERS: Readonly<Record<Exclude<keyof AttackParams, 'eps'>, Catalogued>> = {
  norm: {
    range: { type: 'string', enum: NORMS },
    description: 'norm of the budget and of the step: linf or l2',
    fallback: () => 'linf',
  },
  steps: { range: positiveInteger, description: 'iterations', fallback: () => 1 },
  stepSize: { range: nonNegative, description: 'step per iteration', fallback: (p) => p.eps as number },
  loss: {
    range: { type: 'string', enum: TRANSFER_LOSSES },
    description:
      'loss of the gradient loop: cross-entropy, logit (-z_y, Zhao et al. 2012.11207) or po-trip (Li et al. 2020)',
    fallback: () => 'cross-entropy',
  },
  targeted: {
    range: { type: 'boolean' },
    description: 'move towards the given labels',
    fallback: () => false,
    internal: true,
  },
  randomStart: {
    range: { type: 'boolean' },
    description: 'start from a uniform point of the eps-ball',
    fallback: () => false,
  },
  decay: { range: nonNegative, description: 'momentum decay mu (0: no momentum)', fallback: () => 0 },
  confidence: { range: nonNegative, description: 'C&W margin kappa', fallback: () => 0 },
  binarySearchSteps: {
    range: positiveInteger,
    description: 'binary search steps on the constant c',
    fallback: () => 5,
  },
  initialConst: { range: positive, description: 'initial c', fallback: () => 1 },
  learningRate: { range: positive, description: 'Adam learning rate', fallback: () => 0.05 },
  clipToLinf: {
    range: { type: 'boolean' },
    description: 'clip the result into the L-inf eps-ball',
    fallback: () => true,
  },
  epochs: { range: positiveInteger, description: 'generator training epochs', fallback: () => 10 },
  alpha: { range: nonNegative, description: 'weight of the least-squares GAN loss', fallback: () => 1 },
  beta: { range: nonNegative, description: 'weight of the hinge loss', fallback: () => 1 },
  trainImages: {
    range: positiveInteger,
    description:
      'AdvGAN: attacker images the generator trains on (the first N of the attacker split, at most all of it)',
    fallback: () => 2000,
  },
  hingeBound: { range: nonNegative, description: 'c: the hinge bound on ||G(x)||_2', fallback: () => 3 },
  neighbours: {
    range: { type: 'integer', minimum: 0 },
    description: 'neighbours sampled to estimate the gradient variance (0: none)',
    fallback: () => 20,
  },
  neighbourhood: {
    range: nonNegative,
    description: 'radius of the neighbourhood, in units of eps (beta of Wang and He)',
    fallback: () => 1.5,
  },
  resizeRate: {
    range: { type: 'number', minimum: 1 },
    description: 'DI: the padded size, relative to the image size',
    fallback: () => 1.1,
  },
  diversityProb: {
    range: { type: 'number', minimum: 0, maximum: 1 },
    description: 'DI: probability of transforming an image at each gradient',
    fallback: () => 0.5,
  },
  kernelSize: {
    range: { type: 'integer', minimum: 1, odd: true },
    description: 'TI: side of the Gaussian kernel (odd; 1 leaves the gradient alone)',
    fallback: () => 5,
  },
  scaleCopies: {
    range: positiveInteger,
    description: 'SI and Admix: scale copies x / 2^i, i < scaleCopies',
    fallback: () => 5,
  },
  admixCopies: {
    range: positiveInteger,
    description: 'Admix: images of other classes mixed in per scale copy',
    fallback: () => 3,
  },
  admixStrength: { range: nonNegative, description: 'Admix: weight eta of the mixed-in image', fallback: () => 0.2 },
  amplification: {
    range: { type: 'number', minimum: 1 },
    description: 'PI-FGSM: amplification factor beta of the step (1: none)',
    fallback: () => 10,
  },
  projectionKernel: {
    range: { type: 'integer', minimum: 1, odd: true },
    description: 'PI-FGSM: side of the uniform kernel spreading the cut noise to its neighbours (odd)',
    fallback: () => 3,
  },
  projectionFactor: {
    range: nonNegative,
    description: 'PI-FGSM: size gamma of the projected noise (0: none)',
    fallback: (p) => p.eps as number,
  },
  layer: {
    range: { type: 'string' },
    description: 'feature-level attacks: the layer, a value name as `transferbench targets inspect MODEL` lists it',
    fallback: () => '',
  },
  ensembles: {
    range: positiveInteger,
    description: 'FIA: randomly masked copies the aggregate gradient averages',
    fallback: () => 30,
  },
  dropRate: {
    range: { type: 'number', minimum: 0, maximum: 0.99 },
    description: 'FIA: probability of dropping each pixel of a masked copy',
    fallback: () => 0.3,
  },
  perturbationDecay: {
    range: { type: 'number', minimum: 0, maximum: 1 },
    description: "ILPD: gamma, the share of the layer's perturbation its decayed forward pass keeps (1: no decay)",
    fallback: () => 0.1,
  },
  referenceNoise: {
    range: nonNegative,
    description: "ILPD: sigma of the Gaussian noise on the clean image whose layer value is the decay's reference",
    fallback: () => 0.05,
  },
  sgmGamma: {
    range: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
    description: "SGM: factor gamma of the residual branches' gradients at every skip Add (1: plain gradient)",
    fallback: () => 1,
  },
  linbpLayer: {
    range: { type: 'string' },
    description: 'LinBP: every Relu after this value backpropagates linearly (a name `targets inspect MODEL` lists)',
    fallback: () => '',
  },
  ghostSkipRange: {
    range: { type: 'number', minimum: 0, maximum: 1 },
    description: 'Ghost: skip connections times lambda ~ U[1 - r, 1 + r], drawn per iteration (residual networks)',
    fallback: () => 0,
  },
  ghostDropRate: {
    range: { type: 'number', minimum: 0, maximum: 0.99 },
    description: 'Ghost: dropout rate on every Relu output, masks drawn per iteration (networks without skips)',
    fallback: () => 0,
  },
  seed: {
    range: { type: 'integer' },
    description: 'seed of random starts and transformations',
    fallback: () => 0,
    internal: true,
  },
};

export type ParamName = keyof typeof PARAMETERS;

/** A parameter an attack or transformation takes, with its default for this attack. */
export interface ParamSpec {
  readonly name: ParamName;
  /** Default from eps and the parameters declared before it (already resolved, overrides included). */
  readonly default: (resolved: Readonly<Record<string, Value>>) => Value;
  /** The default as documentation shows it: "2.5*eps/steps". */
  readonly defaultText: string;
  readonly description: string;
  readonly range: ParamRange;
}

/**
 * Declares a parameter: a fixed default or one computed from eps and earlier parameters, and
 * optionally a description specific to the attack (the catalogue's otherwise).
 */
export function param(
  name: ParamName,
  defaultValue: Value | ((p: Readonly<Record<string, Value>>) => Value),
  defaultText?: string,
  description?: string,
): ParamSpec {
  const entry = PARAMETERS[name];
  const compute = typeof defaultValue === 'function' ? defaultValue : () => defaultValue;
  return {
    name,
    default: compute,
    defaultText: defaultText ?? String(defaultValue),
    description: description ?? entry.description,
    range: entry.range,
  };
}

/** Whether a value lies in a parameter's range. */
function inRange(value: unknown, range: ParamRange): boolean {
  switch (range.type) {
    case 'boolean':
      return typeof value === 'boolean';
    case 'string':
      return typeof value === 'string' && (range.enum === undefined || range.enum.includes(value));
    default: {
      if (typeof value !== 'number' || !Number.isFinite(value)) return false;
      if (range.type === 'integer' && !Number.isInteger(value)) return false;
      if (range.odd && value % 2 !== 1) return false;
      if (range.minimum !== undefined && value < range.minimum) return false;
      if (range.maximum !== undefined && value > range.maximum) return false;
      return range.exclusiveMinimum === undefined || value > range.exclusiveMinimum;
    }
  }
}

/** A range in words, for error messages and `list attacks`. */
export function describeRange(range: ParamRange): string {
  if (range.type === 'boolean') return 'true or false';
  if (range.type === 'string') return (range.enum ?? []).join(' or ');
  const kind = range.type === 'integer' ? (range.odd ? 'an odd integer' : 'an integer') : 'a number';
  const bounds = [
    range.minimum !== undefined ? `>= ${range.minimum}` : undefined,
    range.exclusiveMinimum !== undefined ? `> ${range.exclusiveMinimum}` : undefined,
    range.maximum !== undefined ? `<= ${range.maximum}` : undefined,
  ].filter((b) => b !== undefined);
  return bounds.length > 0 ? `${kind} ${bounds.join(' and ')}` : kind;
}

/**
 * Resolves an attack's parameters: each declared parameter takes its override or its default
 * (in declaration order, so a default may use the parameters before it), every other parameter
 * its catalogue value; an override of a parameter the attack does not take is an error naming
 * the ones it does.
 */
export function resolveSpecs(
  owner: string,
  specs: readonly ParamSpec[],
  eps: number,
  overrides: Readonly<Record<string, unknown>>,
): AttackParams {
  if (!(typeof eps === 'number' && eps >= 0 && eps <= 1)) throw badOption(`${owner}: eps`, eps, 'a number in [0, 1]');
  const declared = new Set<string>(specs.map((s) => s.name));
  for (const key of Object.keys(overrides)) {
    const entry = PARAMETERS[key as ParamName] as Catalogued | undefined;
    if (entry?.internal) continue;
    if (!declared.has(key)) {
      const allowed = [...declared].filter((k) => !PARAMETERS[k as ParamName].internal);
      throw badOption(
        `${owner}: parameter "${key}"`,
        overrides[key],
        allowed.length > 0 ? `one of the parameters it takes: ${allowed.join(', ')}` : 'no parameter (it takes none)',
      );
    }
  }
  const resolved: Record<string, Value> = { eps };
  const assign = (name: ParamName, range: ParamRange, compute: () => Value) => {
    const value = name in overrides && overrides[name] !== undefined ? (overrides[name] as Value) : compute();
    if (!inRange(value, range)) throw badOption(`${owner}: ${name}`, value, describeRange(range));
    resolved[name] = value;
  };
  for (const spec of specs) assign(spec.name, spec.range, () => spec.default(resolved));
  for (const [name, entry] of Object.entries(PARAMETERS) as [ParamName, Catalogued][]) {
    if (!declared.has(name)) assign(name, entry.range, () => entry.fallback(resolved));
  }
  return resolved as unknown as AttackParams;
}
