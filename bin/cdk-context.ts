import { readFileSync } from 'node:fs';
import { UsageError } from './command-line';

const CDK_JSON = './cdk.json';

/** A setting as the operator gave it, and where it came from, for the output to say. */
export interface Setting {
  source: string;
  /** As given: undefined when neither the option nor ./cdk.json has it. */
  raw: unknown;
}

/**
 * The option when given, else the context key that `cdk deploy` reads in this folder (values given with `-c` at
 * deploy time are not in it).
 */
export function settingOf(option: string, given: unknown, key: string): Setting {
  if (given !== undefined) return { source: option, raw: given };
  let text: string;
  try {
    text = readFileSync(CDK_JSON, 'utf8');
  } catch {
    return { source: `no ${option} given, and no ${CDK_JSON} here`, raw: undefined };
  }
  let cdkJson: { context?: Record<string, unknown> };
  try {
    cdkJson = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${CDK_JSON} is not valid JSON: ${(error as Error).message}`);
  }
  const raw = cdkJson.context?.[key];
  if (raw === undefined)
    return { source: `no ${option} given, and ${CDK_JSON} has no ${key} context key`, raw };
  return { source: `${key} in ${CDK_JSON}`, raw };
}
