import { type EC2Client, ImportClientVpnClientCertificateRevocationListCommand } from '@aws-sdk/client-ec2';
import { ClientVpnApiError } from '../core/client-vpn-api';

/** What an import did on one endpoint: imported, or (DryRun) would have, the permission being there. */
export type RevocationListImport = 'imported' | 'would-import';

/**
 * ImportClientVpnClientCertificateRevocationList on one endpoint: the operator's CRL, as given, replaces the
 * endpoint's. Only the CLI imports (the evictor's bundle never carries this call). With `dryRun`, EC2 checks the
 * permission and answers DryRunOperation. A failure is a ClientVpnApiError with EC2's code, for explainError.
 */
export async function importRevocationList(
  ec2: EC2Client,
  clientVpnEndpointId: string,
  certificateRevocationList: string,
  dryRun: boolean,
): Promise<RevocationListImport> {
  try {
    await ec2.send(
      new ImportClientVpnClientCertificateRevocationListCommand({
        ClientVpnEndpointId: clientVpnEndpointId,
        CertificateRevocationList: certificateRevocationList,
        DryRun: dryRun,
      }),
    );
    return 'imported';
  } catch (error) {
    const code = (error as { name?: string }).name ?? 'Error';
    if (dryRun && code === 'DryRunOperation') return 'would-import';
    throw new ClientVpnApiError(code, (error as Error).message, { cause: error });
  }
}
