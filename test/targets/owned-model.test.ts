import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadTarget } from '../../src/targets/descriptor.js';
import { inspectOnnx } from '../../src/targets/inspect.js';
import { onnx } from '../../src/targets/onnx/graph.js';
import { gradientSupport } from '../../src/targets/owned-model.js';
import { loadTorchFixtures } from '../fixtures/torch-cases.js';

describe('targets inspect on PyTorch exports (drafts usable as pretrained surrogates)', () => {
  for (const fixture of loadTorchFixtures()) {
    it(
      `${fixture.name}: the draft reads names, layout, shape and output ` +
        `kind off the export, and its gradient can be built`,
      async () => {
        const committed = loadTarget(fixture.descriptorPath);
        const { draft } = inspectOnnx(committed.modelPath);
        const pick = (d: typeof draft) => ({
          name: d.name,
          sha256: d.sha256,
          inputName: d.inputName,
          outputName: d.outputName,
          layout: d.layout,
          inputShape: d.inputShape,
          outputKind: d.outputKind,
          classes: d.classNames.length,
        });
        assert.deepEqual(pick(draft), pick(committed.descriptor));
        assert.deepEqual(await gradientSupport(readFileSync(committed.modelPath), draft), { supported: true });
      },
    );
  }

  it('says which operator keeps a model from being a pretrained surrogate', async () => {
    const path = join(loadTorchFixtures()[0]?.descriptorPath ?? '', '..', 'model.onnx');
    const model = onnx.ModelProto.decode(readFileSync(path));
    const node = (model.graph?.node ?? []).find((n) => n.opType === 'Relu' || n.opType === 'Tanh');
    assert.ok(node, 'the fixture has an activation to swap');
    node.opType = 'Softsign';
    const bytes = onnx.ModelProto.encode(model).finish();
    const support = await gradientSupport(bytes, inspectOnnx(path).draft);
    assert.equal(support.supported, false);
    assert.match(support.reason ?? '', /Softsign/);
  });
});
