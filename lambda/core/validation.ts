import { en } from 'zod/locales';
import type * as z from 'zod/mini';

/**
 * Every schema in the core is zod/mini, imported as a namespace (`import * as z from 'zod/mini'`) so that esbuild
 * keeps only the validators in use: about 15 KB of the Lambda bundles instead of classic zod's 445 KB, which every
 * cold start would compile. zod/mini says only "Invalid input" unless given a locale, so the parses here take
 * zod's English messages, the same ones classic zod gives, for the rejections operators read in the logs.
 */
const english = en().localeError;

export type Validated<T> = { success: true; data: T } | { success: false; reason: string };

/** Parses with English messages; a failure's reason names each of the first `maxIssues` fields and what is wrong. */
export function validate<T>(schema: z.ZodMiniType<T>, value: unknown, maxIssues = 5): Validated<T> {
  const parsed = schema.safeParse(value, { error: english });
  if (parsed.success) return { success: true, data: parsed.data };
  const reason = parsed.error.issues
    .slice(0, maxIssues)
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
  return { success: false, reason };
}
