import { readFileSync } from 'node:fs';
import { importRevocationList } from '../lambda/adapters/ec2-revocation-list';
import { explainError } from '../lambda/core/client-vpn-api';
import { endpointRefProblem, locateEndpoint } from '../lambda/core/endpoint-ref';
import { revocationListProblem } from '../lambda/core/revocation-list';
import { ec2Client } from './aws-clients';
import { EXIT, type Options, UsageError } from './command-line';
import { confirm, deploymentEndpoints } from './eviction';

const ACTION = 'ImportClientVpnClientCertificateRevocationList';
/** EC2 documents it: an import resets the endpoint's existing client connections. */
const RESETS =
  'importing a certificate revocation list resets every connection on the endpoint: clients connect again, and a revoked certificate is then refused';
/** A few calls, not a mass disconnect: the SDK's own retries with backoff ride out a throttle. */
const ATTEMPTS = 5;

/** The file as text once it is a PEM CRL; a UsageError that names the file otherwise, before any call. */
function revocationListIn(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code;
    throw new UsageError(`cannot read the CRL file "${file}": ${why}; nothing was imported`);
  }
  const problem = revocationListProblem(text);
  if (problem)
    throw new UsageError(`"${file}" is not a certificate revocation list: ${problem}; nothing was imported`);
  return text;
}

/**
 * `cvpn-evict crl import <file>`: the operator's CRL, signed by their CA, into every endpoint (`--endpoint-id`,
 * else the deployment's endpointIds), one after the other. It never signs or edits a list. As an import resets
 * every connection on the endpoint, it asks first, as disconnect-all does; `--dry-run` checks the file and the
 * permission (EC2's DryRun) and changes nothing.
 */
export async function crlCommand(values: Options, args: string[]): Promise<number> {
  const [action, file, ...extra] = args;
  if (action !== 'import') throw new UsageError(`crl takes import <file>, got "${action ?? ''}"`);
  if (file === undefined)
    throw new UsageError('crl import needs the CRL file: cvpn-evict crl import <crl.pem>');
  if (extra.length > 0) throw new UsageError(`crl import takes one file; also got ${extra.join(' ')}`);
  const endpointIds =
    values['endpoint-id'].length > 0 ? values['endpoint-id'] : deploymentEndpoints('crl import');
  const problem = endpointIds.map(endpointRefProblem).find((p) => p !== undefined);
  if (problem !== undefined) throw new UsageError(`--endpoint-id: ${problem}`);
  const list = revocationListIn(file);
  const dryRun = values['dry-run'];
  if (!dryRun && !values.yes) {
    if (!process.stdin.isTTY)
      throw new UsageError(`refusing to import without --yes when stdin is not a terminal: ${RESETS}`);
    if (!(await confirm(`Import ${file} into ${endpointIds.join(', ')}? ${RESETS}.`))) {
      process.stderr.write('nothing was imported\n');
      return EXIT.usage;
    }
  }
  const outcomes: Array<{ endpointId: string; outcome: string; reason?: string }> = [];
  for (const endpointId of endpointIds) {
    // An endpoint of another Region is imported into there; one without a Region is in --region's.
    const { region, endpointId: id } = locateEndpoint(endpointId);
    const ec2 = ec2Client(values, region, { maxAttempts: ATTEMPTS });
    try {
      outcomes.push({ endpointId, outcome: await importRevocationList(ec2, id, list, dryRun) });
    } catch (error) {
      outcomes.push({ endpointId, outcome: 'failed', reason: explainError(error, endpointId, ACTION) });
    }
  }
  if (values.json) process.stdout.write(`${JSON.stringify(outcomes, null, 2)}\n`);
  else
    process.stdout.write(
      [
        ...(dryRun ? ['DRY-RUN: nothing imported; EC2 checked the permission'] : []),
        ...outcomes.map(
          (o) => `  ${o.outcome.padEnd(14)}${o.endpointId}${o.reason ? `  (${o.reason})` : ''}`,
        ),
        `note: ${RESETS}`,
        '',
      ].join('\n'),
    );
  return outcomes.some((o) => o.outcome === 'failed') ? EXIT.partial : EXIT.done;
}
