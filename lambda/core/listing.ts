import { type ClientVpnApi, ClientVpnApiError, type ConnectionListing, explainError } from './client-vpn-api';
import { countOutcomes, type EndpointSummary } from './result';
import type { Outcome } from './types';

/** One endpoint's active connections, or why they could not be listed. */
export interface EndpointListing {
  endpointId: string;
  listing?: ConnectionListing;
  error?: ClientVpnApiError;
}

/** Lists every endpoint in parallel; an endpoint that fails is reported with its error, never thrown. */
export async function listAll(
  api: ClientVpnApi,
  endpointIds: readonly string[],
  filter?: readonly string[],
): Promise<EndpointListing[]> {
  return Promise.all(
    endpointIds.map(async (endpointId): Promise<EndpointListing> => {
      try {
        return { endpointId, listing: await api.listActiveConnections(endpointId, filter) };
      } catch (error) {
        const apiError =
          error instanceof ClientVpnApiError
            ? error
            : new ClientVpnApiError('Error', String(error), { cause: error });
        return { endpointId, error: apiError };
      }
    }),
  );
}

/** An endpoint's counts, and why it could not be listed (and whether a retry may help), when it could not. */
export function summarize(
  endpointId: string,
  outcomes: Outcome[],
  error?: ClientVpnApiError,
): EndpointSummary {
  return {
    endpointId,
    ...countOutcomes(outcomes),
    ...(error
      ? {
          error: explainError(error, endpointId, 'DescribeClientVpnConnections'),
          errorKind: error.transient ? ('transient' as const) : ('permanent' as const),
        }
      : {}),
  };
}
