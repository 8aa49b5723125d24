import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { bundleLikeTheStack, ROOT } from './bundle';

/** `npm run build`: the operator CLI as one file, dist/cvpn-evict.js (package.json "bin"). */
export function buildCli(): string {
  const outfile = bundleLikeTheStack('bin/cvpn-evict.ts', {
    outfile: join(ROOT, 'dist', 'cvpn-evict.js'),
    banner: '#!/usr/bin/env node',
  });
  chmodSync(outfile, 0o755);
  return outfile;
}

if (require.main === module) process.stdout.write(`built ${buildCli()}\n`);
