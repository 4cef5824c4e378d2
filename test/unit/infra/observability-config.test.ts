import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { dashboardPath, metricNamesIn, prometheusDir, queriedMetrics, readAlertRules, readDashboard } from '../../support/promql-metrics';

/** promtool comes from Debian's prometheus package, which infra/ensure-ready.mjs installs. */
function promtool(...args: string[]): { status: number | null; output: string } {
  const result = spawnSync('promtool', args, { cwd: prometheusDir, encoding: 'utf8' });
  if (result.error) throw new Error(`promtool could not run (node infra/ensure-ready.mjs installs it): ${result.error.message}`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

interface RuleTestFile {
  tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

describe('Prometheus configuration and alert rules', () => {
  test('when promtool checks prometheus.yml and the rules it loads, then both are valid', () => {
    const checked = promtool('check', 'config', 'prometheus.yml');
    expect(checked.output).toContain('SUCCESS: prometheus.yml is valid');
    expect(checked.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(checked.status).toBe(0);
  });

  test('when promtool evaluates the alert rules on the sample series of alerts.test.yml, then every expectation holds', () => {
    const tested = promtool('test', 'rules', 'alerts.test.yml');
    expect(tested.output).toContain('SUCCESS');
    expect(tested.status).toBe(0);
  });

  test('when an alert is defined, then the sample series show it both firing and silent', () => {
    const tests = (parse(readFileSync(join(prometheusDir, 'alerts.test.yml'), 'utf8')) as RuleTestFile).tests.flatMap((entry) => entry.alert_rule_test ?? []);
    for (const rule of readAlertRules()) {
      const cases = tests.filter((entry) => entry.alertname === rule.alert);
      expect({ alert: rule.alert, fires: cases.some((entry) => entry.exp_alerts.length > 0), silent: cases.some((entry) => entry.exp_alerts.length === 0) }).toEqual({ alert: rule.alert, fires: true, silent: true });
    }
    expect(readAlertRules().map((rule) => rule.alert)).toEqual(expect.arrayContaining(['TransferNeedsAttention', 'TransfersNotTerminal', 'ReconciliationDiscrepancy']));
  });

  test('when a rule is broken, then promtool test rules fails (the check can fail)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alerts-'));
    const broken = readFileSync(join(prometheusDir, 'alerts.yml'), 'utf8').replace('max(transfers_needing_attention) > 0', 'max(transfers_needing_attention) > 5');
    writeFileSync(join(dir, 'alerts.yml'), broken);
    writeFileSync(join(dir, 'alerts.test.yml'), readFileSync(join(prometheusDir, 'alerts.test.yml')));
    const result = spawnSync('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: dir, encoding: 'utf8' });
    expect(result.status).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('alertname: TransferNeedsAttention');
  });
});

describe('Grafana dashboard', () => {
  test('when the dashboard JSON is read, then it parses with unique panel ids and queries on the provisioned Prometheus', () => {
    const dashboard = readDashboard();
    expect(dashboard.uid).toBe('interbank-transfers');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const datasources = parse(readFileSync(join(__dirname, '..', '..', '..', 'infra', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8')) as { datasources: Array<{ uid: string; type: string }> };
    const uid = datasources.datasources[0]?.uid;
    for (const panel of dashboard.panels) {
      expect({ panel: panel.title, uid: panel.datasource?.uid, targets: (panel.targets ?? []).length > 0 }).toEqual({ panel: panel.title, uid, targets: true });
      for (const target of panel.targets ?? []) expect(target.datasource?.uid).toBe(uid);
    }
    const provider = parse(readFileSync(join(__dirname, '..', '..', '..', 'infra', 'grafana', 'provisioning', 'dashboards', 'transfers.yml'), 'utf8')) as { providers: Array<{ options: { path: string } }> };
    expect(provider.providers[0]?.options.path).toBe('/var/lib/grafana/dashboards');
    expect(dashboardPath.endsWith('transfers.json')).toBe(true);
  });

  test('when every dashboard query is given to promtool as a recording rule, then each is valid PromQL', () => {
    const rules = readDashboard().panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ record: `dashboard:panel_${panel.id}_${target.refId.toLowerCase()}`, expr: target.expr })));
    expect(rules.length).toBeGreaterThanOrEqual(15);
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-rules-'));
    writeFileSync(join(dir, 'dashboard-rules.yml'), stringify({ groups: [{ name: 'dashboard', rules }] }));
    const result = spawnSync('promtool', ['check', 'rules', join(dir, 'dashboard-rules.yml')], { encoding: 'utf8' });
    expect(`${result.stdout}${result.stderr}`).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  test('when metric names are read from PromQL, then functions, labels, groupings and ranges are left out', () => {
    expect(metricNamesIn('histogram_quantile(0.95, sum by (le, route) (rate(transfer_api_http_request_duration_seconds_bucket{status=~"5.."}[5m])))')).toEqual(['transfer_api_http_request_duration_seconds_bucket']);
    expect(metricNamesIn('max(a_total) > 0 and on (bank) b unless absent(c)')).toEqual(['a_total', 'b', 'c']);
    expect(queriedMetrics().get('transfers_needing_attention')?.length).toBeGreaterThanOrEqual(2);
  });
});
