import assert from 'node:assert/strict';
import { Random } from '../../src/common/random.js';

describe('Random', () => {
  it('repeats its sequence for the same seed', () => {
    const a = new Random(42);
    const b = new Random(42);
    for (let i = 0; i < 100; i++) assert.equal(a.next(), b.next());
  });

  it('gives different sequences for different seeds and forks', () => {
    assert.notEqual(new Random(1).next(), new Random(2).next());
    const root = new Random(5);
    assert.notEqual(root.fork('a').next(), root.fork('b').next());
    assert.equal(new Random(5).fork('a').next(), new Random(5).fork('a').next());
  });

  it('draws uniform values in [0, 1) with the right mean, and integers in range', () => {
    const r = new Random(3);
    let sum = 0;
    for (let i = 0; i < 20000; i++) {
      const v = r.next();
      assert.ok(v >= 0 && v < 1);
      sum += v;
      const k = r.int(7);
      assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
    }
    assert.ok(Math.abs(sum / 20000 - 0.5) < 0.01);
  });

  it('draws normals with mean 0 and variance 1', () => {
    const r = new Random(9);
    const n = 20000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const v = r.normal();
      s += v;
      s2 += v * v;
    }
    assert.ok(Math.abs(s / n) < 0.03);
    assert.ok(Math.abs(s2 / n - 1) < 0.05);
  });

  it('makes permutations of every index exactly once', () => {
    const p = new Random(11).permutation(50);
    assert.deepEqual(
      [...p].sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  it('refuses a non-integer seed', () => {
    assert.throws(() => new Random(1.5), /seed must be an integer/);
  });
});
