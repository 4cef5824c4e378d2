import type { LogSink } from './processes/managed-process';

const colors = [36, 33, 35, 32, 34, 91, 96, 93, 95];

/** Streams every process's lines to the terminal, each prefixed by its process name in its own colour. */
export function consoleLogSink(stream: NodeJS.WriteStream = process.stdout): LogSink {
  const assigned = new Map<string, number>();
  const width = 18;
  return (source, line) => {
    if (!assigned.has(source)) assigned.set(source, colors[assigned.size % colors.length] ?? 37);
    const label = source.padEnd(width).slice(0, width);
    const prefix = stream.isTTY ? `\u001b[${assigned.get(source)}m${label}\u001b[0m` : label;
    stream.write(`${prefix} | ${line}\n`);
  };
}

export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}
