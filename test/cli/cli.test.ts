import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** Runs the built CLI as npx would: the file itself, through its shebang. */
function transferbench(...args: string[]) {
  return spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000 });
}

describe('transferbench command', () => {
  it('is executable after the build (npx runs it through its shebang)', () => {
    assert.ok((statSync(BIN).mode & 0o111) !== 0, 'dist/src/cli/main.js is not executable');
  });

  it('prints help', () => {
    const r = transferbench('--help');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^transferbench: black-box adversarial transfer benchmarks/);
    assert.match(r.stdout, /quickstart/);
  });

  it('lists backends: wasm loaded, native TensorFlow not installed with the reason', () => {
    const r = transferbench('backends');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wasm\s+@tensorflow\/tfjs-backend-wasm\s+loaded/);
    assert.match(r.stdout, /selected: (wasm|tensorflow)/);
  });

  it('answers an unknown command with exit code 2 and a one-line hint', () => {
    const r = transferbench('frobnicate');
    assert.equal(r.status, 2);
    assert.equal(r.stderr, 'transferbench: unknown command "frobnicate"; run `transferbench --help`\n');
  });

  it('names a bad --backend and the allowed ones', () => {
    const r = transferbench('backends', '--backend', 'gpu');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--backend \(or TRANSFERBENCH_BACKEND\): got "gpu", expected one of tensorflow, wasm, cpu/);
  });
});
