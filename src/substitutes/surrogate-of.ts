import { networkSurrogate } from '../compute/network/run.js';
import type { OnnxNetwork } from '../compute/network/network.js';
import type { Surrogate } from '../compute/surrogate.js';
import { resolveStrategyParams, type StrategyParams } from './params.js';
import { STRATEGIES } from './registry.js';

/**
 * The surrogate attacks are crafted on for a strategy's network: its own `surrogateOf`, else the network's
 * backward pass.
 */
export function substituteSurrogate(
  strategyName: string,
  params: StrategyParams,
  network: OnnxNetwork,
  name: string,
): Promise<Surrogate> {
  const strategy = STRATEGIES.get(strategyName);
  return strategy.surrogateOf
    ? strategy.surrogateOf(network, name, resolveStrategyParams(strategy, params))
    : networkSurrogate(network, name);
}
