/**
 * transferbench as a library: what a researcher scripts, without the command line. Everything
 * here is typed and stable; deeper modules are internal. Library code never prints: progress comes
 * back through callbacks and errors are `TransferbenchError`s with a stable `code`.
 *
 *   import { loadSuite, runSuite, mergeResults } from 'transferbench';
 *   const suite = loadSuite('bench/quickstart.json');
 *   await runSuite(suite, { outDir: 'out', targetsDir: 'targets' });
 *   const { tables } = mergeResults('out');
 */

// Suites: load and check, expand into cells, shard.
export { loadSuite, parseSuite, suiteSchema, DEFAULT_TRAINING, type Suite, type RubbishSpec } from './runner/suite.js';
export {
  expandGrid,
  shardCells,
  parseShard,
  suiteHash,
  type Cell,
  type Shard,
  type SubstituteSpec,
} from './runner/grid.js';
export { targetDescriptorPath, targetNames } from './runner/targets.js';

// Running, merging, reporting.
export { runSuite, outputDir, type RunOptions } from './runner/run.js';
export { mergeResults } from './runner/merge.js';
export { writeReport } from './report/report.js';

// The records a run writes, and the leaderboards built from them (pure functions).
export { readResults, resultFiles, type CellResult } from './records/results.js';
export { readRubbish, rubbishFiles, type RubbishResult } from './records/rubbish.js';
export { rate, type Rate } from './records/metrics.js';
export type { CellExamples } from './records/examples.js';
export {
  leaderboardTables,
  leaderboards,
  resultsTable,
  targetsTable,
  attacksTable,
  substitutesTable,
  transferMatrix,
  rubbishTable,
  toCsv,
  type Table,
} from './report/leaderboards.js';

// The black-box boundary: targets behind a query-counting oracle.
export {
  OraclePool,
  TargetOracle,
  BudgetExceededError,
  ORACLE_MODES,
  type Oracle,
  type OracleAnswer,
  type OracleMode,
  type QueryPurpose,
  type QueryUsage,
  type PoolOptions,
  type TargetOracleOptions,
} from './oracle/index.js';
export { loadTarget, type TargetDescriptor, type ResolvedTarget } from './targets/descriptor.js';

// The registries: what a suite may name.
export { Registry } from './common/registry.js';
export { ATTACKS, type Attack } from './attacks/index.js';
export {
  STRATEGIES,
  obtainSubstitute,
  resolveStrategyParams,
  type SubstituteStrategy,
  type SubstituteContext,
  type SubstituteRecord,
} from './substitutes/index.js';
export {
  param,
  resolveParams as resolveDeclaredParams,
  paramsSchema,
  describeParams,
  type Param,
  type AnyParam,
  type ParamRange,
} from './common/params.js';
export { ARCHITECTURES } from './compute/architectures.js';

// Compute backend and data.
export { useBackend, ensureBackend, currentBackendInfo, BACKEND_NAMES, type BackendInfo } from './compute/backend.js';
export {
  useEngine,
  resolveEngine,
  currentEngineInfo,
  trainModel,
  ENGINE_NAMES,
  ENGINE_REQUESTS,
  type EngineInfo,
  type EngineName,
  type EngineRequest,
} from './compute/engine.js';
export { measureEngines, type EngineMeasurement } from './compute/engine-measure.js';
export { loadSplit, parseDatasetSpec, type Dataset, type Split } from './data/index.js';

export { TransferbenchError, type ErrorCode } from './common/errors.js';
