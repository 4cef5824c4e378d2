import type { TransferApi } from './api-client';

/** Flags every command reads. */
export interface GlobalFlags {
  json?: boolean;
  apiUrl?: string;
  apiKey?: string;
  /** The name of a key the local launcher generated (e.g. operator-2, the second pair of eyes). */
  as?: string;
}

/** The API client and the flags of this run, made when a command runs (after the flags are parsed). */
export type Api = () => { client: TransferApi; flags: GlobalFlags };
/** Prints JSON with --json, else the table. */
export type Print = (flags: GlobalFlags, value: unknown, table: () => string) => void;
