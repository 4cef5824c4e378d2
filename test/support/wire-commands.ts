import type { CommandStartedEvent, Document } from 'mongodb';

/** One command a client sent, with the filter of every read, update and delete in it. */
export interface SentCommand {
  command: string;
  collection: string;
  filter?: Document;
}

/** The commands of one driver event (`monitorCommands: true`, `commandStarted`): an update or delete of many statements is one per filter. */
export function sentCommandsOf(event: CommandStartedEvent): SentCommand[] {
  const { command } = event;
  const collection = String(command[event.commandName] ?? '');
  if (event.commandName === 'find') return [{ command: 'find', collection, filter: command.filter as Document }];
  if (event.commandName === 'update') return (command.updates as Array<{ q: Document }>).map((update) => ({ command: 'update', collection, filter: update.q }));
  if (event.commandName === 'delete') return (command.deletes as Array<{ q: Document }>).map((remove) => ({ command: 'delete', collection, filter: remove.q }));
  return [{ command: event.commandName, collection }];
}

/** FerretDB's SQLite backend uses an index only for a filter of exactly `{ _id: <string> }`; a command without a filter passes. */
export function filtersByIdOnly(sent: SentCommand): boolean {
  if (sent.filter === undefined) return true;
  const keys = Object.keys(sent.filter);
  return keys.length === 1 && keys[0] === '_id' && typeof sent.filter._id === 'string';
}
