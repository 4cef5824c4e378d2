import { outcomesOfOrderedWrite, runsInNextWrite } from '../../../services/account-service/ledger/commit-plan';

describe('cross-account commit: which runs a write takes', () => {
  test('when the waiting runs fit, then one write takes them all', () => {
    expect(runsInNextWrite([1, 1, 3, 100], 1_000)).toBe(4);
  });

  test('when the next run would pass the most entries per write, then the write stops before it and never splits a run', () => {
    expect(runsInNextWrite([400, 500, 200, 1], 1_000)).toBe(2);
    expect(runsInNextWrite([1, 1, 1], 2)).toBe(2);
  });

  test('when the first run alone is larger than the most entries per write, then the write takes it alone', () => {
    expect(runsInNextWrite([150, 1], 100)).toBe(1);
  });

  test('when nothing waits, then a write takes nothing', () => {
    expect(runsInNextWrite([], 100)).toBe(0);
  });
});

describe('cross-account commit: what an ordered write of runs laid end to end decided for each', () => {
  test('when every entry was inserted, then every run is decided whole', () => {
    expect(outcomesOfOrderedWrite([2, 1, 3], 6)).toEqual([
      { reached: true, inserted: 2 },
      { reached: true, inserted: 1 },
      { reached: true, inserted: 3 },
    ]);
  });

  test('when the insert stopped inside a run, then the runs before it are whole, it has its prefix, and the runs behind it were never tried', () => {
    expect(outcomesOfOrderedWrite([2, 3, 1, 4], 3)).toEqual([{ reached: true, inserted: 2 }, { reached: true, inserted: 1 }, { reached: false }, { reached: false }]);
  });

  test("when the insert stopped at a run's first entry, then that run got nothing but is answered, and only the runs behind it go round again", () => {
    expect(outcomesOfOrderedWrite([2, 3, 1], 5)).toEqual([{ reached: true, inserted: 2 }, { reached: true, inserted: 3 }, { reached: true, inserted: 0 }]);
    expect(outcomesOfOrderedWrite([2, 3, 1], 0)).toEqual([{ reached: true, inserted: 0 }, { reached: false }, { reached: false }]);
  });

  test('when the store answers a count the write cannot have inserted, then it is a ledger invariant failure', () => {
    expect(() => outcomesOfOrderedWrite([2, 3], 6)).toThrow('ledger invariant: an ordered write of 5 entries inserted 6');
    expect(() => outcomesOfOrderedWrite([2, 3], -1)).toThrow('ledger invariant');
  });
});
