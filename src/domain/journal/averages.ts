/**
 * The one weighted average of current marks (R17: period marks are set on the basis of the
 * average the system computes, under the school's assessment rules). Each mark carries the weight
 * its kind of work had when the mark was given (R12), so changing a kind's weight later does not
 * rewrite averages already shown to families and teachers.
 */

/** Σ(value × weight) / Σweight, to two decimals; undefined without marks. */
export function weightedAverage(marks: ReadonlyArray<{ value: number; weight: number }>): number | undefined {
  let sum = 0;
  let weights = 0;
  for (const m of marks) {
    if (!(m.weight > 0)) continue;
    sum += m.value * m.weight;
    weights += m.weight;
  }
  if (weights === 0) return undefined;
  return Math.round((sum / weights) * 100) / 100;
}
