/**
 * Skips the running test and says why: the reason goes into its title, which the test reporter
 * (test/reporter.cjs) lists at the end of `npm test`, so a skip is never silent.
 */
export function skipBecause(context: Mocha.Context, reason: string): never {
  if (context.test !== undefined) context.test.title = `${context.test.title} [skipped: ${reason}]`;
  context.skip();
}
