import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { firstWindowId, nextWindowId, positionAccountId } from '../../../lib/contracts/settlement';
import { ApiError } from '../../../lib/http/errors';
import { tallyWindow } from '../../../lib/settlement/window-tally';
import type { SettlementWindow, SettlementWindowStore } from '../../../lib/settlement/window-store';
import { searchAttributes } from '../../../lib/contracts/search-attributes';
import { settlementWindowWorkflowId, settlementWindowWorkflowType, type SettlementWindowInput } from '../../../workflows/settlement-window-definitions';
import type { SettlementBank } from './settlement-bank';

/** A window as the API shows it: its state, and the nets of its completed transfers (final once SETTLED). */
export interface WindowView {
  windowId: string;
  state: SettlementWindow['state'];
  openedAt: string;
  closedAt: string | null;
  settledAt: string | null;
  transfers: number;
  /** Transfers of the window still in flight (0 once it settles). */
  inFlight: number;
  positions: Array<{ bankId: string; currency: string; netMinor: string }>;
  /** The settlement bank's entries that settled it (empty before). */
  entries: Array<{ bankId: string; currency: string; accountId: string; operationId: string; amountMinor: string }>;
}

/** Deferred-net settlement windows: their record, their live tally, and their closing by a Temporal workflow. */
export class SettlementWindows {
  constructor(
    private readonly store: SettlementWindowStore,
    private readonly bank: SettlementBank,
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  /** The first window, opened and marked on every position chain; a chain opened later is marked with the window open now. */
  async openFirst(at: string): Promise<void> {
    await this.store.open(firstWindowId, at);
    const open = await this.store.latest();
    if (!open) throw new Error('no settlement window after opening the first');
    for (const bankId of this.bank.participants) {
      for (const currency of this.bank.config.currencies) await this.bank.markWindow(positionAccountId(bankId, currency), open.windowId);
    }
  }

  async get(windowId: string): Promise<WindowView | undefined> {
    const window = await this.store.get(windowId);
    return window ? this.viewOf(window) : undefined;
  }

  async list(limit: number, before?: string): Promise<{ data: WindowView[]; nextCursor: string | null }> {
    const windows = await this.store.list(limit + 1, before);
    const page = windows.slice(0, limit);
    const last = page.at(-1);
    return { data: await Promise.all(page.map((window) => this.viewOf(window))), nextCursor: windows.length > limit && last ? last.windowId : null };
  }

  /** Starts closing the open window; a second close of the same window answers the same ids. */
  async close(requestedBy: string): Promise<{ windowId: string; nextWindowId: string }> {
    const open = await this.store.latest();
    if (!open) throw new ApiError('TEMPORARILY_UNAVAILABLE', 'no settlement window is open yet; retry once the API has started', undefined, { 'retry-after': '5' });
    const input: SettlementWindowInput = { windowId: open.windowId, participants: [...this.bank.participants], currencies: [...this.bank.config.currencies], requestedBy };
    try {
      await this.client.workflow.start(settlementWindowWorkflowType, {
        workflowId: settlementWindowWorkflowId(open.windowId),
        taskQueue: this.taskQueue,
        args: [input],
        typedSearchAttributes: [
          { key: searchAttributes.settlementWindowId, value: open.windowId },
          { key: searchAttributes.settlementWindowState, value: 'OPEN' },
        ],
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    return { windowId: open.windowId, nextWindowId: nextWindowId(open.windowId) };
  }

  private async viewOf(window: SettlementWindow): Promise<WindowView> {
    const base = { windowId: window.windowId, state: window.state, openedAt: window.openedAt, closedAt: window.closedAt, settledAt: window.settledAt };
    if (window.report) return { ...base, transfers: window.report.transfers, inFlight: 0, positions: window.report.positions.map(({ bankId, currency, netMinor }) => ({ bankId, currency, netMinor })), entries: window.report.entries };
    const tally = await tallyWindow(this.bank.reader, { windowId: window.windowId, participants: this.bank.participants, currencies: this.bank.config.currencies });
    return { ...base, transfers: tally.transfers, inFlight: tally.inFlight, positions: tally.positions.map(({ bankId, currency, netMinor }) => ({ bankId, currency, netMinor })), entries: [] };
  }
}
