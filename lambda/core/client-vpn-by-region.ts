import {
  type ClientVpnApi,
  ClientVpnApiError,
  type ConnectionListing,
  type TerminateOptions,
  type TerminateResponse,
  type TerminateTarget,
} from './client-vpn-api';
import { type EndpointRef, endpointsByRegion, locateEndpoint } from './endpoint-ref';

/**
 * One ClientVpnApi for endpoints in several Regions, made of one per Region. EC2 throttles each account and Region
 * with buckets of its own, so each Region has its own client and pacer, made once, here, for every Region of the
 * configured endpoints: a throttle in one Region slows that Region only, and the core's parallel calls to
 * endpoints of different Regions run side by side, each Region at its own share. Each Region's API is asked with
 * EC2's ids there, and what it lists is named back as the deployment names it.
 */
export class ClientVpnApiByRegion implements ClientVpnApi {
  private readonly regions: Map<string | undefined, ClientVpnApi>;

  /** `apiFor(undefined)` serves the deployment's own Region. */
  constructor(endpoints: readonly EndpointRef[], apiFor: (region: string | undefined) => ClientVpnApi) {
    this.regions = new Map(
      [...endpointsByRegion(endpoints).keys()].map((region) => [region, apiFor(region)]),
    );
  }

  private apiOf(endpoint: EndpointRef): { api: ClientVpnApi; endpointId: string } {
    const { region, endpointId } = locateEndpoint(endpoint);
    const api = this.regions.get(region);
    // The policy keeps every request to the configured endpoints, so this is a bug, not an input to handle.
    if (!api) throw new ClientVpnApiError('UnknownRegion', `no EC2 client for the Region of ${endpoint}`);
    return { api, endpointId };
  }

  async listActiveConnections(
    endpoint: EndpointRef,
    usernames?: readonly string[],
  ): Promise<ConnectionListing> {
    const { api, endpointId } = this.apiOf(endpoint);
    const listing = await api.listActiveConnections(endpointId, usernames);
    return { ...listing, connections: listing.connections.map((c) => ({ ...c, endpointId: endpoint })) };
  }

  terminate(
    endpoint: EndpointRef,
    target: TerminateTarget,
    dryRun: boolean,
    options?: TerminateOptions,
  ): Promise<TerminateResponse> {
    const { api, endpointId } = this.apiOf(endpoint);
    return api.terminate(endpointId, target, dryRun, options);
  }

  /** Every Region: the lease the run waited for guards its Regions' budgets, and a spent burst is the safe guess. */
  spendBurst(): void {
    for (const api of this.regions.values()) api.spendBurst?.();
  }
}
