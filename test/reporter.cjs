'use strict';
// The spec reporter, followed by how many tests were skipped and why (see test/helpers/skip.ts).
// CommonJS, because mocha loads reporters with require().
const Mocha = require('mocha');

const { EVENT_TEST_PENDING, EVENT_RUN_END } = Mocha.Runner.constants;

class SpecWithSkips extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    const skipped = [];
    runner.on(EVENT_TEST_PENDING, (test) =>
      skipped.push(typeof test.fullTitle === 'function' ? test.fullTitle() : test.title),
    );
    runner.once(EVENT_RUN_END, () => {
      const lines = skipped.map(
        (title) => `  - ${/\[skipped: /.test(title) ? title : `${title} [skipped: no reason given]`}`,
      );
      process.stdout.write(
        `\n  skipped ${skipped.length} test(s)${skipped.length > 0 ? ':' : ''}\n` +
          `${lines.join('\n')}${lines.length > 0 ? '\n' : ''}\n`,
      );
    });
  }
}

module.exports = SpecWithSkips;
