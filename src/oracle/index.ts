export * from './oracle.js';
export { OraclePool, type PoolOptions } from './pool.js';
export { TargetOracle, type TargetOracleOptions } from './target-oracle.js';
export { ImageBudgetView } from './image-budget.js';
