#!/usr/bin/env node
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { suiteSchema } from './suite.js';

/** `npm run schema`: writes bench/suite.schema.json from the TypeScript schema it mirrors. */
export const SCHEMA_FILE = fileURLToPath(new URL('../../../bench/suite.schema.json', import.meta.url));

export function schemaText(): string {
  return `${JSON.stringify(suiteSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, schemaText());
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}
