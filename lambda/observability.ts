import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** Built once per container. POWERTOOLS_* environment variables override these defaults. */
export const logger = new Logger({ serviceName: 'client-vpn-evictor' });
export const metrics = new Metrics({ namespace: 'ClientVpnEvictor', serviceName: 'client-vpn-evictor' });
