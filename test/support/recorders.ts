import type { ConnectDependencies } from '../../lambda/create-connect-handler';
import type { EvictorDependencies } from '../../lambda/create-evictor-handler';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  attributes: Record<string, unknown>;
}

/** A logger and metrics that record instead of printing, for the handlers' tests. */
export function recorders() {
  const lines: LogLine[] = [];
  let keys: Record<string, unknown> = {};
  const metricsSeen: Array<{ name: string; value: number; dimensions?: Record<string, string> }> = [];
  const logger: EvictorDependencies['logger'] & ConnectDependencies['logger'] = {
    info: (message: unknown, attributes?: unknown) => {
      lines.push({
        level: 'info',
        message: String(message),
        attributes: { ...keys, ...(attributes as object) },
      });
    },
    error: (message: unknown, attributes?: unknown) => {
      lines.push({
        level: 'error',
        message: String(message),
        attributes: { ...keys, ...(attributes as object) },
      });
    },
    warn: (message: unknown, attributes?: unknown) => {
      lines.push({
        level: 'warn',
        message: String(message),
        attributes: { ...keys, ...(attributes as object) },
      });
    },
    appendKeys: (attributes) => {
      keys = { ...keys, ...attributes };
    },
    removeKeys: (names) => {
      keys = Object.fromEntries(Object.entries(keys).filter(([name]) => !names.includes(name)));
    },
    setCorrelationId: (value) => {
      keys = { ...keys, correlation_id: value };
    },
  } as EvictorDependencies['logger'] & ConnectDependencies['logger'];
  const metrics = {
    addMetric: (name: string, _unit: unknown, value: number) => {
      metricsSeen.push({ name, value });
    },
    singleMetric: () => {
      const dimensions: Record<string, string> = {};
      return {
        addDimension: (dimension: string, value: string) => {
          dimensions[dimension] = value;
        },
        addMetric: (name: string, _unit: unknown, value: number) => {
          metricsSeen.push({ name, value, dimensions: { ...dimensions } });
        },
      };
    },
  } as unknown as EvictorDependencies['metrics'] & ConnectDependencies['metrics'];
  return { logger, metrics, lines, metricValues: metricsSeen };
}
