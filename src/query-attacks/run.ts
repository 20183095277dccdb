import { badOption } from '../common/errors.js';
import { Random } from '../common/random.js';
import type { Surrogate } from '../compute/surrogate.js';
import type { BudgetedAnswer, ImageBudgetOracle } from '../oracle/oracle.js';
import type { Norm } from '../attacks/types.js';
import { rowAnswer } from './answers.js';
import { Gather, type Channel } from './gather.js';
import { distance, inBall, projectToBall } from './geometry.js';
import { QUERY_ATTACKS, resolveQueryParams } from './registry.js';
import { surrogateChannels } from './surrogate-channels.js';
import type { ImageTask, QueryParams, QueryRole, RowAnswer, SurrogateGuide } from './types.js';

export interface QueryRunRequest {
  readonly attack: string;
  /** The only way to the target: its per-image budget is the run's. */
  readonly oracle: ImageBudgetOracle;
  /** Clean images, NHWC [0, 1], and the class each moves away from. */
  readonly images: Float32Array;
  readonly labels: Int32Array;
  /** Stable image ids (evaluation indices): budgets and random streams are per id. */
  readonly ids: readonly number[];
  readonly eps: number;
  readonly norm: Norm;
  readonly params?: Readonly<Record<string, number | string>>;
  readonly seed: number;
  /** Hybrid: transfer examples to start from instead of the clean images (inside the ball). */
  readonly starts?: Float32Array;
  /** Hybrid: the white-box model whose gradient guides the attack (P-RGF's prior; the guide's only model). */
  readonly surrogate?: Surrogate;
  /** Hybrid: the models a guided hybrid consults (default: `surrogate` alone). */
  readonly surrogates?: readonly Surrogate[];
  /**
   * Where success checks go when they are not counted (the suite's `countSuccessChecks: false`): a second per-image
   * view of the same target, charged apart. Without it every row, checks included, spends the image's budget.
   */
  readonly checkOracle?: ImageBudgetOracle;
  /** Groups of images attacked as independent request streams, so several requests are in flight (default 2). */
  readonly streams?: number;
}

export const STOP_REASONS = ['success', 'budget', 'gave-up'] as const;
export type StopReason = (typeof STOP_REASONS)[number];

export interface ImageOutcome {
  readonly id: number;
  /** An answer said "not the image's class" for a point inside the ball. */
  readonly success: boolean;
  /** Queries up to and including that answer (null without success). */
  readonly queriesToSuccess: number | null;
  /** Queries the oracle charged to this image. */
  readonly queries: number;
  /** The attack's own count of answered rows charged to the budget (tests compare it with `queries`). */
  readonly tally: number;
  /** Success-check rows answered, counted in `queries` or, with a check oracle, charged apart. */
  readonly checks: number;
  readonly stop: StopReason;
  /**
   * Distance, in the run's norm, of the result before projection: a decision-based attack's closest adversarial point.
   */
  readonly distance: number;
}

export interface QueryRunOutcome {
  /** One image per input, inside the ball and [0, 1]: the successful point, or the kept point projected. */
  readonly adversarial: Float32Array;
  readonly images: readonly ImageOutcome[];
  readonly params: QueryParams;
}

/** Thrown into an image's attack to stop it; never seen outside this file. */
class StopImage extends Error {
  constructor(readonly reason: 'success' | 'budget') {
    super(`stopped: ${reason}`);
  }
}

interface ImageState {
  readonly id: number;
  readonly clean: Float32Array;
  readonly label: number;
  tally: number;
  checks: number;
  queriesToSuccess: number | null;
  successImage?: Float32Array;
  kept?: Float32Array;
  stop: StopReason;
}

/**
 * Runs a query attack on many images at once: one async procedure per image, their queries
 * gathered into full batches per request stream. Success is decided here, not by the attack:
 * the first answered row that the target does not call the image's class and that lies inside
 * the ball. Budgets are the oracle's: when it refuses a row the image stops, not fooled within
 * its budget.
 */
export async function runQueryAttack(request: QueryRunRequest): Promise<QueryRunOutcome> {
  const attack = QUERY_ATTACKS.get(request.attack);
  const { oracle, eps, norm } = request;
  const shape = oracle.imageShape;
  const size = shape[0] * shape[1] * shape[2];
  const count = request.ids.length;
  if (request.images.length !== count * size || request.labels.length !== count)
    throw badOption(
      `${attack.name}: images`,
      `${request.images.length} values, ${request.labels.length} labels`,
      `${count} images of ${shape.join('x')} and ${count} labels`,
    );
  if (attack.kind !== 'decision-based' && oracle.mode === 'label')
    throw badOption(
      `${attack.name}: oracle mode`,
      oracle.mode,
      '"probabilities" or "top-k" (a score-based attack needs scores)',
    );
  if (attack.kind === 'hybrid' && request.surrogate === undefined && (request.surrogates ?? []).length === 0)
    throw badOption(`${attack.name}: surrogate`, 'none', 'a surrogate model (it guides the attack with its gradient)');
  const params = resolveQueryParams(attack, norm, eps, shape, request.params ?? {});
  const states: ImageState[] = request.ids.map((id, i) => ({
    id,
    clean: request.images.slice(i * size, (i + 1) * size),
    label: request.labels[i] as number,
    tally: 0,
    checks: 0,
    queriesToSuccess: null,
    stop: 'gave-up',
  }));

  type Ask = { state: ImageState; rows: Float32Array; count: number; role: QueryRole };
  const checkOracle = request.checkOracle;
  const oracleChannel: Channel<Ask, RowAnswer[]> = {
    async serve(requests) {
      const apart = (r: Ask) => checkOracle !== undefined && r.role === 'check';
      // Rows charged to the budget and checks charged apart go out together, each to its view.
      const [counted, uncounted] = await Promise.all([
        send(
          oracle,
          requests.filter((r) => !apart(r)),
        ),
        checkOracle ? send(checkOracle, requests.filter(apart)) : new Map<Ask, AnswerRows>(),
      ]);
      return requests.map((r) => {
        const { state, count: n } = r;
        const { answer, answerOf, rows } = (apart(r) ? uncounted : counted).get(r) as AnswerRows;
        const replies: RowAnswer[] = [];
        let refused = false;
        for (let k = 0; k < n; k++) {
          const j = answerOf[k] as number;
          if (j < 0) {
            refused = true;
            continue;
          }
          if (apart(r)) state.checks++;
          else {
            state.tally++;
            if (r.role === 'check') state.checks++;
          }
          const reply = rowAnswer(answer, j, state.label);
          replies.push(reply);
          const row = rows.subarray(k * size, (k + 1) * size);
          if (reply.adversarial && state.queriesToSuccess === null && inBall(row, state.clean, eps, norm)) {
            state.queriesToSuccess = state.tally;
            state.successImage = row.slice();
          }
        }
        if (state.queriesToSuccess !== null) return new StopImage('success');
        return refused ? new StopImage('budget') : replies;
      });
    },
  };
  type AnswerRows = { answer: BudgetedAnswer['answer']; answerOf: Int32Array; rows: Float32Array };
  /**
   * One request to a view for these asks; per ask, its answer and which answer row each of its rows got (-1:
   * refused).
   */
  async function send(view: ImageBudgetOracle, asks: readonly Ask[]): Promise<Map<Ask, AnswerRows>> {
    const result = new Map<Ask, AnswerRows>();
    if (asks.length === 0) return result;
    const total = asks.reduce((n, r) => n + r.count, 0);
    const rows = new Float32Array(total * size);
    const ids: number[] = [];
    asks.forEach((r) => {
      rows.set(r.rows.subarray(0, r.count * size), ids.length * size);
      for (let k = 0; k < r.count; k++) ids.push(r.state.id);
    });
    const { answered, answer } = await view.query(rows, ids);
    const answerOf = new Int32Array(total).fill(-1);
    answered.forEach((row, j) => (answerOf[row] = j));
    let offset = 0;
    for (const r of asks) {
      result.set(r, {
        answer,
        answerOf: answerOf.subarray(offset, offset + r.count),
        rows: rows.subarray(offset * size, (offset + r.count) * size),
      });
      offset += r.count;
    }
    return result;
  }
  const surrogates = request.surrogates ?? (request.surrogate ? [request.surrogate] : []);
  const channels = surrogateChannels(attack.name, surrogates, size, oracle.classes);
  const guide = (gather: Gather): SurrogateGuide => ({
    models: surrogates.length,
    logits: (image, model) => gather.ask(channels.logits, { image, model }),
    logitGradient: (image, weights, model) => gather.ask(channels.logitGradient, { image, weights, model }),
  });

  const streams = Math.max(1, Math.min(request.streams ?? 2, count));
  const gathers = Array.from({ length: streams }, () => new Gather());
  const base = new Random(request.seed);
  await Promise.all(
    gathers.map((gather, g) =>
      gather.runAll(
        states
          .map((state, i) => ({ state, i }))
          .filter(({ i }) => i % streams === g)
          .map(({ state, i }) => async () => {
            const task: ImageTask = {
              id: state.id,
              clean: state.clean,
              label: state.label,
              ...(request.starts ? { start: request.starts.slice(i * size, (i + 1) * size) } : {}),
              shape,
              classes: oracle.classes,
              mode: oracle.mode,
              eps,
              norm,
              params,
              random: base.fork(`${attack.name}:${state.id}`),
              query: (rows, n, role = 'search') => gather.ask(oracleChannel, { state, rows, count: n, role }),
              surrogateGradient: (image) => gather.ask(channels.margin, { image, label: state.label }),
              guide: guide(gather),
              keep: (image) => (state.kept = image.slice()),
            };
            try {
              await attack.attack(task);
            } catch (error) {
              if (!(error instanceof StopImage)) throw error;
              state.stop = error.reason;
            }
          }),
      ),
    ),
  );

  const adversarial = new Float32Array(count * size);
  const images = states.map((state, i): ImageOutcome => {
    const point = state.successImage ?? state.kept ?? state.clean;
    adversarial.set(state.successImage ?? projectToBall(point, state.clean, eps, norm), i * size);
    const success = state.queriesToSuccess !== null;
    return {
      id: state.id,
      success,
      queriesToSuccess: state.queriesToSuccess,
      queries: oracle.spent(state.id),
      tally: state.tally,
      checks: state.checks,
      stop: success ? 'success' : state.stop,
      distance: distance(point, state.clean, norm),
    };
  });
  return { adversarial, images, params };
}
