/**
 * Fault injection per action (or `*` for every action), or per action on one endpoint (`Action:cvpn-endpoint-...`,
 * which wins over the action's own): errors at a rate or for the next N calls, added latency, dropped sockets, and
 * answers lost after the action took effect. Set at start (`--faults file.json`) or at run time through the admin
 * API.
 */
export interface ActionFault {
  /** Fraction of calls, 0..1, answered with `code`/`status`. */
  errorRate?: number;
  /** The next N calls fail, whatever the rate; counts down. */
  failNext?: number;
  code?: string;
  status?: number;
  latencyMs?: number;
  /** Fraction of calls, 0..1, whose socket is destroyed without an answer, before the action runs. */
  dropRate?: number;
  /** Fraction of calls, 0..1, that take effect and then lose their answer (the socket is destroyed). */
  loseAnswerRate?: number;
  /** The next N calls take effect and lose their answer; counts down. */
  loseAnswerNext?: number;
}

export type FaultConfig = Record<string, ActionFault>;

export type FaultDecision =
  | { kind: 'none'; latencyMs: number; loseAnswer: boolean }
  | { kind: 'drop'; latencyMs: number }
  | { kind: 'error'; latencyMs: number; code: string; status: number | undefined };

const rate = (value: number | undefined) => Math.min(1, Math.max(0, value ?? 0));

export function validateFaults(input: unknown): FaultConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error('faults are an object keyed by action name (or "*")');
  }
  for (const [action, fault] of Object.entries(input)) {
    if (typeof fault !== 'object' || fault === null) throw new Error(`faults.${action} must be an object`);
    for (const [key, value] of Object.entries(fault)) {
      const ok =
        key === 'code'
          ? typeof value === 'string'
          : typeof value === 'number' && Number.isFinite(value) && value >= 0;
      const known = [
        'errorRate',
        'failNext',
        'code',
        'status',
        'latencyMs',
        'dropRate',
        'loseAnswerRate',
        'loseAnswerNext',
      ].includes(key);
      if (!known || !ok) throw new Error(`faults.${action}.${key}: unknown key or wrong type`);
    }
  }
  return input as FaultConfig;
}

export class Faults {
  constructor(
    private config: FaultConfig = {},
    private readonly random: () => number = Math.random,
  ) {}

  get settings(): FaultConfig {
    return this.config;
  }

  configure(config: FaultConfig): void {
    this.config = validateFaults(config);
  }

  decide(action: string, endpointId?: string): FaultDecision {
    const onEndpoint = endpointId === undefined ? undefined : this.config[`${action}:${endpointId}`];
    const fault = onEndpoint ?? this.config[action] ?? this.config['*'];
    if (!fault) return { kind: 'none', latencyMs: 0, loseAnswer: false };
    const latencyMs = fault.latencyMs ?? 0;
    if (this.random() < rate(fault.dropRate)) return { kind: 'drop', latencyMs };
    const forced = (fault.failNext ?? 0) > 0;
    if (forced) fault.failNext = (fault.failNext ?? 1) - 1;
    if (forced || this.random() < rate(fault.errorRate)) {
      return { kind: 'error', latencyMs, code: fault.code ?? 'InternalError', status: fault.status };
    }
    const lose = (fault.loseAnswerNext ?? 0) > 0;
    if (lose) fault.loseAnswerNext = (fault.loseAnswerNext ?? 1) - 1;
    return { kind: 'none', latencyMs, loseAnswer: lose || this.random() < rate(fault.loseAnswerRate) };
  }
}
