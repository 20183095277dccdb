import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../fixtures/files.js';

const BIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** A suite naming zoo targets, one of them built in `targets/`, and the user's own target.json. */
function fixture(targets: string[]): { dir: string; suite: string } {
  const dir = tempDir('transferbench-suite-targets-');
  mkdirSync(join(dir, 'targets', 'mlp'), { recursive: true });
  writeFileSync(join(dir, 'targets', 'mlp', 'target.json'), '{}');
  const suite = join(dir, 'suite.json');
  writeFileSync(
    suite,
    JSON.stringify({
      name: 'needs',
      dataset: 'mnist-embedded',
      seed: 0,
      evaluationSize: 10,
      targets,
      oracle: { mode: 'probabilities' },
      substitutes: [{ strategy: 'ground-truth', architectures: ['softmax'], budgets: [0] }],
      attacks: [{ name: 'fgsm', eps: [0.1] }],
      labelSources: ['true'],
    }),
  );
  return { dir, suite };
}

describe('transferbench targets missing / build --suite', () => {
  it('prints only the zoo targets the suite names that are not built, one per line', () => {
    const { dir, suite } = fixture(['mlp', 'cnn-small', 'model-c', '/elsewhere/own/target.json']);
    const r = spawnSync(BIN, ['targets', 'missing', suite, '--targets-dir', join(dir, 'targets')], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'cnn-small\nmodel-c\n');
  });

  it('refuses a missing target no zoo file can build, naming it', () => {
    const { dir, suite } = fixture(['mlp', 'my-own-model']);
    for (const args of [
      ['targets', 'missing', suite, '--targets-dir', join(dir, 'targets')],
      ['targets', 'build', '--suite', suite, '--out', join(dir, 'targets')],
    ]) {
      const r = spawnSync(BIN, args, { encoding: 'utf8' });
      assert.equal(r.status, 2);
      assert.match(
        r.stderr,
        /needs: target\(s\) my-own-model are not built in .*targets and are in no targets\/zoo\*\.json/,
      );
    }
  });

  it('builds nothing when every target is built', () => {
    const { dir, suite } = fixture(['mlp']);
    const r = spawnSync(BIN, ['targets', 'build', '--suite', suite, '--out', join(dir, 'targets')], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /needs: every zoo target it names is built in/);
  });
});
