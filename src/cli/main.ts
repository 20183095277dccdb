#!/usr/bin/env node
import { failure, main } from './program.js';

const verbose = process.argv.includes('--verbose');
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (caught: unknown) => {
    const { message, status, stack } = failure(caught);
    process.stderr.write(`transferbench: ${message}\n`);
    if (verbose && stack) process.stderr.write(`${stack}\n`);
    process.exitCode = status;
  },
);
