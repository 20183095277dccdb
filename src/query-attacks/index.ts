export * from './types.js';
export { QUERY_ATTACKS, resolveQueryParams } from './registry.js';
export {
  runQueryAttack,
  STOP_REASONS,
  type ImageOutcome,
  type QueryRunOutcome,
  type QueryRunRequest,
  type StopReason,
} from './run.js';
export { distance, inBall, projectToBall, BALL_TOLERANCE } from './geometry.js';
