import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { METRICS_NAMESPACE, SERVICE_NAME } from './metrics-namespace';

/**
 * Built once per container, with the names in code rather than POWERTOOLS_* variables, so that the stack's alarms
 * and the functions cannot disagree. The tracer is on only in Lambda (AWS_EXECUTION_ENV), so local runs of the
 * bundle send nothing to X-Ray.
 */
export const logger = new Logger({ serviceName: SERVICE_NAME });
export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
export const tracer = new Tracer({ serviceName: SERVICE_NAME });
