'use strict';
// Usage: node dashboard.js DASHBOARD.json (--scrape METRICS.txt | --documented metrics.txt)
// Checks the Grafana dashboard: it parses, every panel uses the datasource
// variable, every PromQL expression uses only metric names the agent exports
// (from a live /metrics scrape, or the documented list) and known label
// names, and the panels the operators rely on are there.

const fs = require('fs');
const { analyze } = require('./lib/promql');
const { fromExposition, fromDocumented } = require('./lib/exposition');
const { reporter } = require('./lib/report');

// Labels Prometheus adds to every series of a scraped target.
const TARGET_LABELS = ['instance', 'job', 'namespace', 'pod', 'node', 'container'];

const [file, mode, source] = process.argv.slice(2);
const r = reporter();
const known = mode === '--scrape' ? fromExposition(fs.readFileSync(source, 'utf8'))
  : fromDocumented(fs.readFileSync(source, 'utf8'));
r.ok(known.families >= 10, `metric list from ${mode === '--scrape' ? 'a live /metrics scrape' : 'the documented list'} (${known.families} families)`);

let dash;
try {
  dash = JSON.parse(fs.readFileSync(file, 'utf8'));
  r.ok(true, `${file} parses as JSON`);
} catch (e) {
  r.ok(false, `${file} parses as JSON`, e.message);
  process.exit(1);
}

const vars = ((dash.templating || {}).list || []);
const dsVar = vars.find((v) => v.type === 'datasource' && v.query === 'prometheus');
r.ok(dsVar, 'has a Prometheus datasource variable');
const dsRef = dsVar ? `\${${dsVar.name}}` : null;

const panels = (dash.panels || []).flatMap((p) => [p, ...(p.panels || [])]);
const graphs = panels.filter((p) => p.type !== 'row');
const ids = panels.map((p) => p.id);
r.ok(new Set(ids).size === ids.length && ids.every(Number.isInteger), 'panel ids are unique integers');
r.ok(panels.every((p) => p.gridPos && p.gridPos.x + p.gridPos.w <= 24), 'panels fit the 24-column grid');
const usesVar = (ds) => ds && ds.uid === dsRef;
const badDs = graphs.filter((p) => !usesVar(p.datasource) || !(p.targets || []).every((t) => usesVar(t.datasource)));
r.ok(badDs.length === 0, 'every panel and query uses the datasource variable', badDs.map((p) => p.title).join(', '));

// Every expression: queries of panels and of query variables.
const exprs = graphs.flatMap((p) => (p.targets || []).map((t) => ({ where: p.title, expr: t.expr })));
for (const v of vars.filter((x) => x.type === 'query')) {
  r.ok(usesVar(v.datasource), `variable ${v.name} uses the datasource variable`);
  exprs.push({ where: `variable ${v.name}`, expr: typeof v.query === 'string' ? v.query : v.query.query });
}
r.ok(graphs.every((p) => (p.targets || []).length > 0), 'every panel has a query');
for (const { where, expr } of exprs) {
  const a = analyze(expr || '');
  const bad = a.errors.slice();
  if (!a.metrics.length) bad.push('no metric');
  // A label must belong to a metric of the same expression, or be one
  // Prometheus adds to every scraped series.
  const allowed = new Set(TARGET_LABELS);
  for (const m of a.metrics) {
    if (known.names.has(m)) for (const l of known.names.get(m)) allowed.add(l);
    else bad.push(`unknown metric ${m}`);
  }
  for (const l of a.labels) if (!allowed.has(l)) bad.push(`label ${l} is not a label of ${a.metrics.join(', ')}`);
  r.ok(bad.length === 0, `${where}: ${expr}`, bad.join('; '));
}

// The panels the dashboard exists for.
const all = exprs.map((e) => e.expr.replace(/\s+/g, ' '));
const has = (re) => all.some((e) => re.test(e));
const REQUIRED = [
  ['mirrored rate per route', /sum by \(route\) \(rate\(spoa_shadow_route_mirrored_total/],
  ['sampled per mirror', /by \(route, mirror\) \(rate\(spoa_shadow_mirror_sampled_total/],
  ['sent per mirror', /by \(route, mirror\) \(rate\(spoa_shadow_mirror_sent_total/],
  ['drops by reason', /by \(reason\) \(rate\(spoa_shadow_mirror_dropped_total/],
  ['mirror latency p50', /histogram_quantile\(0\.5, .*spoa_shadow_mirror_latency_seconds_bucket/],
  ['mirror latency p99', /histogram_quantile\(0\.99, .*spoa_shadow_mirror_latency_seconds_bucket/],
  ['response status classes', /class\) \(rate\(spoa_shadow_mirror_responses_total/],
  ['ACK latency p99', /histogram_quantile\(0\.99, .*spoa_shadow_ack_latency_seconds_bucket/],
  ['SPOP connections', /spoa_shadow_spop_connections\b(?!_)/],
  ['in-flight copies', /spoa_shadow_mirror_inflight/],
  ['queued copies', /spoa_shadow_mirror_queued/],
];
for (const [name, re] of REQUIRED) r.ok(has(re), `dashboard has a "${name}" query`);
process.exit(r.failed() ? 1 : 0);
