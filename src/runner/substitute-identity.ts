import { fixedDefault } from '../common/params.js';
import { STRATEGIES, type TrainingConfig } from '../substitutes/index.js';
import type { SubstituteSpec } from './grid.js';
import { DEFAULT_TRAINING } from './suite-types.js';

/** A substitute's resolved configuration as results.csv's `strategy_params` holds it (JSON). */
export type StrategyParamsRecord =
  | { readonly params: Readonly<Record<string, number | string>>; readonly training: TrainingConfig }
  | {
      readonly combine: string;
      readonly members: readonly {
        readonly strategy: string;
        readonly architecture: string;
        readonly budget: number;
        readonly params: Readonly<Record<string, number | string>>;
        readonly training: TrainingConfig;
      }[];
    };

const TRAINING_KEYS = ['epochs', 'batchSize', 'learningRate'] as const;

/**
 * Parameters kept out of the label (the JSON has them): pretrained's model path, which the architecture column already
 * names (ownedModelLabel) and which differs between machines, and its thread count, how fast it runs, not what it is.
 */
const NOT_IN_LABEL = new Set(['model', 'threads']);

/** Every parameter a strategy declares, as the spec resolves it (a run-dependent default stays absent). */
function resolvedParams(strategy: string, given: Readonly<Record<string, number | string>>) {
  const resolved: Record<string, number | string> = {};
  for (const p of STRATEGIES.get(strategy).parameters) {
    const value = given[p.name] ?? fixedDefault(p);
    if (typeof value === 'number' || typeof value === 'string') resolved[p.name] = value;
  }
  return resolved;
}

/**
 * What tells a substitute's strategy apart in records and leaderboards, as attackIdentity does for
 * attacks: the strategy's name with the parameters and training settings the suite set away from
 * their defaults, in declaration order ("dynamic-distillation(rounds=3,epochs=6)"; the plain name
 * when nothing differs), and the full resolved configuration. Training settings are in the label
 * because two substitutes trained for 1 and for 20 epochs are two settings a leaderboard must not
 * pool. An ensemble is labelled by its combination alone: its architecture column names the members.
 */
export function strategyIdentity(spec: SubstituteSpec): { label: string; params: StrategyParamsRecord } {
  if (spec.members !== undefined) {
    const combine = String(spec.params.combine ?? 'logits');
    return {
      label: combine === 'logits' ? spec.strategy : `${spec.strategy}(combine=${combine})`,
      params: {
        combine,
        members: spec.members.map((m) => ({
          strategy: m.strategy,
          architecture: m.architecture,
          budget: m.budget,
          params: resolvedParams(m.strategy, m.params),
          training: m.training,
        })),
      },
    };
  }
  const params = resolvedParams(spec.strategy, spec.params);
  const defaults = resolvedParams(spec.strategy, {});
  const chosen = [
    ...Object.keys(params)
      .filter((k) => !NOT_IN_LABEL.has(k) && params[k] !== defaults[k])
      .map((k) => `${k}=${String(params[k])}`),
    ...TRAINING_KEYS.filter((k) => spec.training[k] !== DEFAULT_TRAINING[k]).map((k) => `${k}=${spec.training[k]}`),
  ];
  return {
    label: chosen.length === 0 ? spec.strategy : `${spec.strategy}(${chosen.join(',')})`,
    params: { params, training: spec.training },
  };
}
