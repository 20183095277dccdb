import type { OracleAnswer } from '../oracle/oracle.js';
import type { RowAnswer } from './types.js';

/** Probabilities below this are read as this (float32 softmax underflows to 0 far from a class). */
const TINY = 1e-38;

/** Row j of an oracle answer as an attack on class `label` reads it, from whatever the mode reveals. */
export function rowAnswer(answer: OracleAnswer, j: number, label: number): RowAnswer {
  const top = answer.labels[j] as number;
  const adversarial = top !== label;
  if (answer.probabilities) {
    const p = answer.probabilities.subarray(j * answer.classes, (j + 1) * answer.classes);
    let other = 0;
    for (let k = 0; k < p.length; k++) if (k !== label) other = Math.max(other, p[k] as number);
    const py = p[label] as number;
    return {
      label: top,
      adversarial,
      margin: Math.log(Math.max(py, TINY)) - Math.log(Math.max(other, TINY)),
      trueClassProbability: py,
    };
  }
  if (answer.topK) {
    const { k, values, indices } = answer.topK;
    const row = (t: number) => ({ index: indices[j * k + t] as number, value: values[j * k + t] as number });
    let position = -1;
    for (let t = 0; t < k; t++) if (row(t).index === label) position = t;
    if (position < 0) {
      // y is below every revealed class: its margin is at most log(smallest revealed) - log(top).
      const bound = Math.log(Math.max(row(k - 1).value, TINY)) - Math.log(Math.max(row(0).value, TINY));
      return { label: top, adversarial, margin: Math.min(bound, -1e-6), trueClassProbability: 0 };
    }
    const py = row(position).value;
    const other = k >= 2 ? row(position === 0 ? 1 : 0).value : Math.max(0, 1 - py);
    return {
      label: top,
      adversarial,
      margin: Math.log(Math.max(py, TINY)) - Math.log(Math.max(other, TINY)),
      trueClassProbability: py,
    };
  }
  return { label: top, adversarial, margin: adversarial ? -1 : 1, trueClassProbability: Number.NaN };
}
