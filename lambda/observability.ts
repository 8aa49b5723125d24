import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * Built once per container. POWERTOOLS_* environment variables override these defaults. The tracer is on only
 * in Lambda (AWS_EXECUTION_ENV), so local runs of the bundle send nothing to X-Ray.
 */
export const logger = new Logger({ serviceName: 'client-vpn-evictor' });
export const metrics = new Metrics({ namespace: 'ClientVpnEvictor', serviceName: 'client-vpn-evictor' });
export const tracer = new Tracer({ serviceName: 'client-vpn-evictor' });
