import { POSITIVE } from '../common/params.js';
import type { Random } from '../common/random.js';
import { numberParam, type ImageTask, type QueryAttack } from './types.js';

/** One block of the image: rows [y, y + side) x columns [x, x + side) of one channel. */
interface Block {
  readonly y: number;
  readonly x: number;
  readonly channel: number;
}

/** Rows answered per request inside a local search (BlackboxBench's inner batch of 100). */
const CANDIDATE_BATCH = 100;

/**
 * Parsimonious black-box attack, ECO (Moon, An and Song 1905.06635; after BlackboxBench's
 * `parsimonious_attack.py`), L-inf: the perturbation is a vertex of the eps-ball, -eps
 * everywhere at first; blocks of side `blockSize` are taken `blockBatch` at a time in random
 * order, and on each batch a lazy-greedy local search flips the blocks whose flip lowers the
 * margin the most (insertion: -eps to +eps; then deletion: back), re-evaluating only the best
 * candidate of a priority queue. After every block of a size, the side halves (down to 1, then
 * the single pixels again in a new order). Defaults are BlackboxBench's CIFAR-10 settings
 * (block 4, 64 blocks per batch; the paper's ImageNet ones are 32 and 64).
 */
export const parsimonious: QueryAttack = {
  name: 'parsimonious',
  kind: 'score-based',
  description:
    'Parsimonious/ECO (Moon et al. 1905.06635): lazy-greedy block flips on the vertices of the L-inf ball, ' +
    'blocks halving',
  norms: ['linf'],
  parameters: [
    {
      name: 'blockSize',
      range: POSITIVE,
      description: 'side of the first blocks (BlackboxBench on CIFAR-10: 4)',
      default: () => 4,
    },
    {
      name: 'blockBatch',
      range: POSITIVE,
      description: 'blocks per local search (BlackboxBench and the paper: 64)',
      default: () => 64,
    },
  ],
  async attack(task: ImageTask): Promise<void> {
    const { clean, eps, random } = task;
    const [h, w, c] = task.shape;
    const size = clean.length;
    // signs[i] = +1 where the perturbation is +eps.
    const signs = new Int8Array(size).fill(-1);
    const image = (flipped?: { block: Block; side: number }) => {
      const out = new Float32Array(size);
      for (let i = 0; i < size; i++) out[i] = (clean[i] as number) + eps * (signs[i] as number);
      if (flipped)
        forBlock(
          flipped.block,
          flipped.side,
          w,
          c,
          h,
          (i) => (out[i] = (clean[i] as number) - eps * (signs[i] as number)),
        );
      for (let i = 0; i < size; i++) out[i] = Math.min(1, Math.max(0, out[i] as number));
      return out;
    };
    const flip = (block: Block, side: number) =>
      forBlock(block, side, w, c, h, (i) => (signs[i] = -(signs[i] as number) as -1 | 1));
    task.keep(image());
    for (
      let side = Math.max(1, Math.min(numberParam(task.params, 'blockSize'), h, w));
      ;
      side = Math.max(1, Math.floor(side / 2))
    ) {
      const blocks = shuffledBlocks(h, w, c, side, random);
      const batch = numberParam(task.params, 'blockBatch');
      for (let from = 0; from < blocks.length; from += batch) {
        await localSearch(task, blocks.slice(from, from + batch), side, signs, image, flip);
        task.keep(image());
      }
    }
  },
};

/** Insertion then deletion over one batch of blocks, each lazy-greedy (the authors' local_search). */
async function localSearch(
  task: ImageTask,
  blocks: readonly Block[],
  side: number,
  signs: Int8Array,
  image: (flipped?: { block: Block; side: number }) => Float32Array,
  flip: (block: Block, side: number) => void,
): Promise<void> {
  const size = signs.length;
  const [, w, c] = task.shape;
  let loss = (await task.query(image(), 1))[0]?.margin as number;
  for (const inserting of [true, false]) {
    // A block is "in" when its first pixel is at +eps.
    const candidates = blocks.filter((b) => (signs[(b.y * w + b.x) * c + b.channel] === 1) !== inserting);
    const queue: { gain: number; block: Block }[] = [];
    for (let from = 0; from < candidates.length; from += CANDIDATE_BATCH) {
      const part = candidates.slice(from, from + CANDIDATE_BATCH);
      const rows = new Float32Array(part.length * size);
      part.forEach((block, k) => rows.set(image({ block, side }), k * size));
      const answers = await task.query(rows, part.length);
      part.forEach((block, k) => queue.push({ gain: (answers[k]?.margin as number) - loss, block }));
    }
    queue.sort((a, b) => a.gain - b.gain);
    const best = queue.shift();
    if (best === undefined) continue;
    // As the authors: the best candidate is taken unconditionally, the rest only while they still lower the loss.
    loss += best.gain;
    flip(best.block, side);
    while (queue.length > 0) {
      const candidate = queue.shift() as { gain: number; block: Block };
      const margin = (await task.query(image({ block: candidate.block, side }), 1))[0]?.margin as number;
      const gain = margin - loss;
      if (queue.length === 0 || gain <= (queue[0]?.gain as number)) {
        if (gain > 0) break;
        loss = margin;
        flip(candidate.block, side);
      } else {
        const at = queue.findIndex((q) => q.gain > gain);
        queue.splice(at < 0 ? queue.length : at, 0, { gain, block: candidate.block });
      }
    }
  }
}

function forBlock(block: Block, side: number, w: number, c: number, h: number, visit: (i: number) => void): void {
  for (let y = block.y; y < Math.min(h, block.y + side); y++)
    for (let x = block.x; x < Math.min(w, block.x + side); x++) visit((y * w + x) * c + block.channel);
}

function shuffledBlocks(h: number, w: number, c: number, side: number, random: Random): Block[] {
  const blocks: Block[] = [];
  for (let y = 0; y < h; y += side)
    for (let x = 0; x < w; x += side) for (let channel = 0; channel < c; channel++) blocks.push({ y, x, channel });
  return random.shuffle(blocks);
}
