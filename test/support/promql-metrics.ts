import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const projectRoot = join(__dirname, '..', '..');
export const prometheusDir = join(projectRoot, 'infra', 'prometheus');
export const dashboardPath = join(projectRoot, 'infra', 'grafana', 'dashboards', 'transfers.json');

const keywords = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan']);

/**
 * Metric names a PromQL expression reads: identifiers left once strings, label matchers,
 * grouping clauses, ranges and function calls are taken out.
 */
export function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  const names = [...bare.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\s*(\()?/g)].flatMap((match) => (match[2] || keywords.has((match[1] as string).toLowerCase()) ? [] : [match[1] as string]));
  return [...new Set(names)];
}

export interface DashboardPanel {
  id: number;
  title: string;
  type: string;
  datasource?: { type: string; uid: string };
  targets?: Array<{ refId: string; expr: string; datasource?: { uid: string } }>;
}

export function readDashboard(): { uid: string; title: string; panels: DashboardPanel[] } {
  return JSON.parse(readFileSync(dashboardPath, 'utf8')) as { uid: string; title: string; panels: DashboardPanel[] };
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function readAlertRules(): AlertRule[] {
  const file = parse(readFileSync(join(prometheusDir, 'alerts.yml'), 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return file.groups.flatMap((group) => group.rules);
}

/** Every metric the dashboard and the alert rules query, with where each is used. */
export function queriedMetrics(): Map<string, string[]> {
  const used = new Map<string, string[]>();
  const note = (expr: string, where: string): void => {
    for (const name of metricNamesIn(expr)) used.set(name, [...(used.get(name) ?? []), where]);
  };
  for (const panel of readDashboard().panels) for (const target of panel.targets ?? []) note(target.expr, `dashboard panel "${panel.title}"`);
  for (const rule of readAlertRules()) note(rule.expr, `alert ${rule.alert}`);
  return used;
}
