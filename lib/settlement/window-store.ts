import { MongoServerError, type Collection, type Db } from 'mongodb';
import type { WindowReport } from '../contracts/settlement';

/**
 * Settlement windows (deferred-net) in the API's database. As for the transfer record, every
 * decision is a uniquely keyed insert and every read an `_id` look-up or an `_id`-ordered walk:
 * - `settlement_windows`: one document per window, `_id` = its id (`w-000001`, …, so that id
 *   order is opening order); inserting the next window is what opens it;
 * - `settlement_window_states`: `<windowId>:CLOSED|SETTLING|SETTLED`, inserted once each; a
 *   window's state is the furthest one present, and the SETTLED one holds the report.
 */

export const windowStates = ['OPEN', 'CLOSED', 'SETTLING', 'SETTLED'] as const;
export type WindowState = (typeof windowStates)[number];

export interface SettlementWindow {
  windowId: string;
  state: WindowState;
  openedAt: string;
  closedAt: string | null;
  settledAt: string | null;
  /** Set once the window is settled. */
  report: WindowReport | null;
}

interface WindowDocument {
  _id: string;
  openedAt: string;
}

interface StateDocument {
  _id: string;
  windowId: string;
  state: Exclude<WindowState, 'OPEN'>;
  at: string;
  report?: WindowReport;
}

const isDuplicateKey = (error: unknown): boolean => error instanceof MongoServerError && error.code === 11000;
const stateOrder: readonly WindowState[] = windowStates;

export class SettlementWindowStore {
  private readonly windows: Collection<WindowDocument>;
  private readonly states: Collection<StateDocument>;

  constructor(db: Db) {
    this.windows = db.collection('settlement_windows');
    this.states = db.collection('settlement_window_states');
  }

  /** Opens a window unless it exists (the first one at start, the next one when its predecessor closes). */
  async open(windowId: string, at: string): Promise<void> {
    try {
      await this.windows.insertOne({ _id: windowId, openedAt: at });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  /** Records a state once; a repeat keeps the first (its time and report). */
  async record(windowId: string, state: Exclude<WindowState, 'OPEN'>, at: string, report?: WindowReport): Promise<void> {
    try {
      await this.states.insertOne({ _id: `${windowId}:${state}`, windowId, state, at, ...(report ? { report } : {}) });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  /** The newest window: the open one (a close opens the next before anything else). */
  async latest(): Promise<SettlementWindow | undefined> {
    const [newest] = await this.windows.find({}).sort({ _id: -1 }).limit(1).toArray();
    return newest ? this.viewOf(newest) : undefined;
  }

  async get(windowId: string): Promise<SettlementWindow | undefined> {
    const found = await this.windows.findOne({ _id: windowId });
    return found ? this.viewOf(found) : undefined;
  }

  /** Newest first, `limit` windows before `before` (exclusive) when given. */
  async list(limit: number, before?: string): Promise<SettlementWindow[]> {
    const filter = before === undefined ? {} : { _id: { $lt: before } };
    const found = await this.windows.find(filter).sort({ _id: -1 }).limit(limit).toArray();
    return Promise.all(found.map((document) => this.viewOf(document)));
  }

  private async viewOf(document: WindowDocument): Promise<SettlementWindow> {
    const states = await this.states.find({ _id: { $in: (['CLOSED', 'SETTLING', 'SETTLED'] as const).map((state) => `${document._id}:${state}`) } }).toArray();
    const byState = new Map(states.map((entry) => [entry.state, entry]));
    const state = [...stateOrder].reverse().find((candidate) => candidate === 'OPEN' || byState.has(candidate)) ?? 'OPEN';
    return {
      windowId: document._id,
      state,
      openedAt: document.openedAt,
      closedAt: byState.get('CLOSED')?.at ?? null,
      settledAt: byState.get('SETTLED')?.at ?? null,
      report: byState.get('SETTLED')?.report ?? null,
    };
  }
}
