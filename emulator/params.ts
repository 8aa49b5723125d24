import { Ec2Error, invalidValue, missingParameter } from './errors';

export interface Filter {
  name: string;
  values: string[];
}

/** Typed, validating reads of an EC2 Query request's parameters (`Name`, `Name.N`, `Filter.N.Value.M`). */
export class QueryParams {
  constructor(private readonly params: URLSearchParams) {}

  string(name: string): string | undefined {
    return this.params.get(name) ?? undefined;
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw missingParameter(name);
    return value;
  }

  integer(name: string, min: number, max: number): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n)) {
      throw invalidValue(name, raw, 'It must be an integer.');
    }
    if (n < min || n > max) throw invalidValue(name, raw, `It must be between ${min} and ${max}.`);
    return n;
  }

  boolean(name: string): boolean {
    const raw = this.string(name);
    if (raw === undefined) return false;
    if (raw !== 'true' && raw !== 'false') throw invalidValue(name, raw, 'It must be true or false.');
    return raw === 'true';
  }

  /** `Prefix.1`, `Prefix.2`, ... in index order; gaps are allowed as the SDK never sends them but users might. */
  list(prefix: string): string[] {
    const pattern = new RegExp(`^${prefix.replaceAll('.', '\\.')}\\.(\\d+)$`);
    return [...this.params.entries()]
      .map(([key, value]) => ({ index: Number(pattern.exec(key)?.[1]), value }))
      .filter((entry) => Number.isInteger(entry.index))
      .sort((a, b) => a.index - b.index)
      .map((entry) => entry.value);
  }

  filters(allowed: readonly string[]): Filter[] {
    const indexes = new Set<number>();
    for (const key of this.params.keys()) {
      const match = /^Filter\.(\d+)\./.exec(key);
      if (match) indexes.add(Number(match[1]));
    }
    return [...indexes]
      .sort((a, b) => a - b)
      .map((i) => {
        const name = this.required(`Filter.${i}.Name`);
        if (!allowed.includes(name)) {
          throw new Ec2Error(
            'InvalidParameterValue',
            `The filter '${name}' is invalid. Valid filters: ${allowed.join(', ')}`,
          );
        }
        const values = this.list(`Filter.${i}.Value`);
        if (values.length === 0) throw missingParameter(`Filter.${i}.Value.1`);
        return { name, values };
      });
  }
}
