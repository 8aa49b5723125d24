/** The middle of the sorted samples (the upper middle of an even count); NaN for none. */
export const median = (xs: readonly number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
