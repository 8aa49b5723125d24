import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { bundleEntry, ROOT } from '../infra/bundling';

/** `npm run build`: the operator CLI as one file, dist/cvpn-evict.js (package.json "bin"). */
export function buildCli(): string {
  const outfile = bundleEntry('bin/cvpn-evict.ts', {
    outfile: join(ROOT, 'dist', 'cvpn-evict.js'),
    banner: '#!/usr/bin/env node',
  });
  chmodSync(outfile, 0o755);
  return outfile;
}

if (require.main === module) process.stdout.write(`built ${buildCli()}\n`);
