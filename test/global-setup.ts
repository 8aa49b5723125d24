import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildCli } from '../scripts/build';
import { INTEGRATION_CONTEXT, SYNTH_OUT } from './support/cdk-out';
import { offlineEnv } from './support/process';

/**
 * Builds the operator CLI (dist/cvpn-evict.js) as `npm run build` does, and runs the real `cdk synth` once, offline and without AWS credentials, as a user would. Integration tests then
 * load the evictor asset it wrote: the tested file is the file `cdk deploy` would upload.
 */
export default function globalSetup(): void {
  buildCli();
  rmSync(SYNTH_OUT, { recursive: true, force: true });
  const args = ['synth', '--quiet', '--no-notices', '--output', SYNTH_OUT];
  for (const [key, value] of Object.entries(INTEGRATION_CONTEXT)) args.push('--context', `${key}=${value}`);
  const run = spawnSync(join(__dirname, '..', 'node_modules', '.bin', 'cdk'), args, {
    cwd: join(__dirname, '..'),
    env: offlineEnv(),
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`cdk synth failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
}
