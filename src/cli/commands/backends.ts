import { probeBackends, useBackend } from '../../compute/backend.js';
import { formatTable, type Reporter } from '../reporter.js';

/** `transferbench backends`: each candidate, loaded or why not, and which one would be used. */
export async function backendsCommand(reporter: Reporter, requested: string | undefined): Promise<number> {
  const candidates = await probeBackends();
  const rows = [
    ['backend', 'package', 'status'],
    ...candidates.map((c) => [c.name, c.packageName, c.loaded ? 'loaded' : `not available: ${c.reason ?? ''}`]),
  ];
  reporter.info(formatTable(rows));
  const info = await useBackend(requested);
  const extra = info.composedKernels.length > 0 ? ` (composed kernels: ${info.composedKernels.join(', ')})` : '';
  reporter.info(`\nselected: ${info.name}${extra}`);
  return 0;
}
