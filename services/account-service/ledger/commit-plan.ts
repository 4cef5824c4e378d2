/**
 * The arithmetic of a cross-account write: the runs (one account's consecutive entries each) laid
 * end to end in one ordered insert, and what the insert's answer means for each run.
 */

/** How many of the waiting runs, in order, the next write takes: whole runs up to `entriesMax` entries, at least one. */
export function runsInNextWrite(runLengths: readonly number[], entriesMax: number): number {
  let entries = 0;
  let runs = 0;
  for (const length of runLengths) {
    if (runs > 0 && entries + length > entriesMax) break;
    entries += length;
    runs += 1;
  }
  return runs;
}

/** What one run got from the write: `inserted` of its entries (a prefix), or nothing because the write stopped before it. */
export type RunOutcome = { reached: true; inserted: number } | { reached: false };

/**
 * The outcome of each run of an ordered insert that inserted `inserted` documents (all of them, or
 * those before the first refused one). The run holding the refusal got its prefix and resolves the
 * conflict for its own account; the runs behind it were never tried and go into the next write.
 */
export function outcomesOfOrderedWrite(runLengths: readonly number[], inserted: number): RunOutcome[] {
  const total = runLengths.reduce((sum, length) => sum + length, 0);
  if (!Number.isInteger(inserted) || inserted < 0 || inserted > total) throw new Error(`ledger invariant: an ordered write of ${total} entries inserted ${inserted}`);
  let start = 0;
  return runLengths.map((length) => {
    const outcome: RunOutcome = start <= inserted ? { reached: true, inserted: Math.min(length, Math.max(0, inserted - start)) } : { reached: false };
    start += length;
    return outcome;
  });
}
