import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRICS_NAMESPACE, SERVICE_NAME } from './metrics-namespace';

/**
 * Built once per container. The names given here win over POWERTOOLS_SERVICE_NAME and
 * POWERTOOLS_METRICS_NAMESPACE (Powertools reads those only when a name is missing). The tracer is on only
 * in Lambda (AWS_EXECUTION_ENV), so local runs of the bundle send nothing to X-Ray.
 */
export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
export const tracer = new Tracer({ serviceName: SERVICE_NAME });
