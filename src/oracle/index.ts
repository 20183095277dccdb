export * from './oracle.js';
export { ORACLE_ISOLATIONS, type OracleIsolation, OraclePool, type PoolOptions } from './pool.js';
export { TargetOracle, type TargetOracleOptions } from './target-oracle.js';
export { ImageBudgetView } from './image-budget.js';
