import { str } from '../ir.js';
import { Backward, attrString, badModel, type GradientBuilder, type GradientContext } from './types.js';

interface Equation {
  readonly inputs: readonly string[];
  readonly output: string;
}

/**
 * The equation with every '...' written out as letters the equation does not use (right-aligned, as
 * numpy broadcasts them) and the implicit output ('ij,jk') made explicit.
 */
export function parseEinsum(equation: string, ranks: readonly number[]): Equation {
  const text = equation.replace(/\s/g, '');
  const [lhs = '', rhs] = text.split('->');
  const terms = lhs.split(',');
  const free = [...'abcdefghijklmnopqrstuvwxyz'].filter((c) => !text.includes(c));
  const ellipsisRank = Math.max(0, ...terms.map((t, i) => (t.includes('...') ? (ranks[i] ?? 0) - (t.length - 3) : 0)));
  const ellipsis = free.slice(0, ellipsisRank).join('');
  const inputs = terms.map((t, i) =>
    t.includes('...') ? t.replace('...', ellipsis.slice(ellipsisRank - ((ranks[i] ?? 0) - (t.length - 3)))) : t,
  );
  let output: string;
  if (rhs !== undefined) output = rhs.replace('...', ellipsis);
  else {
    const letters = inputs.join('');
    const once = [...new Set(letters)].filter((c) => !ellipsis.includes(c) && letters.split(c).length === 2).sort();
    output = ellipsis + once.join('');
  }
  return { inputs, output };
}

/**
 * Einsum of one or two operands without repeated letters in a term (attention's 'bhid,bhjd->bhij' and
 * 'bhij,bhjd->bhid', projections 'bnd,de->bne', transposes): d operand k is the Einsum of dY with the other
 * operands back to operand k's letters; a letter only operand k has (summed away) is broadcast back.
 */
export const einsumGradient: GradientBuilder = (ctx) => {
  const b = new Backward(ctx);
  const dy = ctx.gradOutput(0);
  if (dy === undefined) return b.done();
  const shapes = ctx.node.inputs.map((i) => ctx.shape(i));
  const { inputs, output } = parseEinsum(
    attrString(ctx.node, 'equation', ''),
    shapes.map((s) => s.length),
  );
  if (inputs.length > 2) throw badModel(ctx.node, `${inputs.length} operands are not supported; only one or two`);
  for (const term of [...inputs, output])
    if (new Set(term).size !== term.length)
      throw badModel(ctx.node, `the repeated letter in '${term}' (a diagonal) is not supported`);
  checkNoBroadcast(ctx, inputs, shapes);
  inputs.forEach((term, k) => {
    if (!ctx.needsGradient(k)) return;
    const others = inputs.filter((_, j) => j !== k);
    const known = new Set(others.join('') + output);
    const kept = [...term].filter((c) => known.has(c)).join('');
    const equation = `${[output, ...others].join(',')}->${kept}`;
    const operands = [dy, ...ctx.node.inputs.filter((_, j) => j !== k)];
    if (kept === term) {
      b.node('Einsum', operands, { equation: str(equation) }, ctx.gradInput(k));
      return;
    }
    const partial = b.node('Einsum', operands, { equation: str(equation) });
    const missing = [...term].flatMap((c, axis) => (known.has(c) ? [] : [axis]));
    b.node('Expand', [b.unsqueeze(partial, missing), b.node('Shape', [ctx.input(k)])], {}, ctx.gradInput(k));
  });
  return b.done();
};

/** A letter must have one size in every operand: a size-1 broadcast would need its own reduction. */
function checkNoBroadcast(ctx: GradientContext, inputs: readonly string[], shapes: readonly (readonly number[])[]) {
  const sizes = new Map<string, number>();
  inputs.forEach((term, k) =>
    [...term].forEach((c, axis) => {
      const size = shapes[k]?.[axis] as number;
      const seen = sizes.get(c);
      if (seen !== undefined && seen !== size)
        throw badModel(ctx.node, `letter ${c} has sizes ${seen} and ${size}; broadcasting operands is not supported`);
      sizes.set(c, size);
    }),
  );
}
