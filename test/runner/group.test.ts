import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { GroupRunner } from '../../src/runner/group.js';
import { expandGrid, suiteHash } from '../../src/runner/grid.js';
import { parseSuite } from '../../src/runner/suite.js';
import { tinySuite } from './fixture-suite.js';

describe('GroupRunner', function () {
  this.timeout(300000);

  it("leaves no tensor behind after a group: a long suite's memory does not grow with its cells", async () => {
    const fixture = await tinySuite('group-memory');
    const suite = parseSuite(
      {
        ...fixture.suite,
        substitutes: [
          {
            strategy: 'ground-truth',
            architectures: ['softmax'],
            budgets: [0],
            params: { trainImages: 300 },
            training: { epochs: 1 },
          },
          {
            strategy: 'ensemble',
            members: [
              {
                strategy: 'ground-truth',
                architecture: 'softmax',
                budget: 0,
                params: { trainImages: 300 },
                training: { epochs: 1 },
              },
              { strategy: 'white-box', architecture: 'softmax', budget: 0 },
            ],
          },
        ],
        // A transformed attack: its copies go through tfjs ops of their own, inside and outside the surrogate.
        attacks: [
          { name: 'fgsm', eps: [0.1] },
          { name: 'di-mi-fgsm', eps: [0.1], params: { steps: 2 } },
        ],
        labelSources: ['true'],
      },
      'group-memory',
    );
    const cells = expandGrid(suite);
    const groups = [...new Set(cells.map((c) => c.group))].map((g) => cells.filter((c) => c.group === g));
    assert.ok(groups.length >= 2, 'several groups');
    const runner = new GroupRunner(
      suite,
      suiteHash(suite),
      { targetsDir: fixture.targetsDir, cacheDir: join(fixture.dir, 'cache'), useCache: true },
      1,
    );
    const counts: number[] = [];
    let ran = 0;
    try {
      const before = tf.memory().numTensors;
      for (const group of groups) {
        await runner.run(group, () => ran++);
        counts.push(tf.memory().numTensors - before);
      }
    } finally {
      await runner.close();
    }
    assert.equal(ran, cells.length);
    assert.deepEqual(
      counts,
      groups.map(() => 0),
      'tensors left after each group',
    );
  });
});
