'use strict';
// Usage: node negative.js RENDERED.yaml BROKEN_OUT.yaml
// Breaks copies of the rendered objects one way at a time (a misspelled key,
// a value of the wrong type) and checks that validation reports exactly the
// broken field; then writes one copy with every break to BROKEN_OUT.yaml,
// for validate.js to reject as a whole. Exits 1 if any break goes unnoticed.

const fs = require('fs');
const YAML = require('yaml');
const { modelFor } = require('./lib/models');
const { strictValidate } = require('./lib/strict');
const { loadObjects } = require('./lib/load');
const { reporter } = require('./lib/report');

const [file, out] = process.argv.slice(2);
const objects = loadObjects(file);
const r = reporter();

// rename(o, path, newKey): moves the value at <path> to key <newKey>.
function rename(o, path, newKey) {
  const parent = path.slice(0, -1).reduce((x, k) => x[k], o);
  const last = path[path.length - 1];
  if (!(last in parent)) throw new Error(`${path.join('/')} missing`);
  parent[newKey] = parent[last];
  delete parent[last];
}
// set(o, path, value): replaces the value at <path>.
function set(o, path, value) {
  const parent = path.slice(0, -1).reduce((x, k) => x[k], o);
  const last = path[path.length - 1];
  if (!(last in parent)) throw new Error(`${path.join('/')} missing`);
  parent[last] = value;
}

const C = ['spec', 'template', 'spec', 'containers', 0];
// Each break: the object it applies to, what it does, and the text the
// report must contain.
const BREAKS = [
  { kind: 'DaemonSet', what: 'misspelled imagePullPolicy', apply: (o) => rename(o, [...C, 'imagePullPolicy'], 'imagePullPolicyy'),
    expect: 'unknown field /spec/template/spec/containers/0/imagePullPolicyy' },
  { kind: 'DaemonSet', what: 'misspelled readinessProbe', apply: (o) => rename(o, [...C, 'readinessProbe'], 'readinessProbee'),
    expect: 'unknown field /spec/template/spec/containers/0/readinessProbee' },
  { kind: 'DaemonSet', what: 'misspelled key deep in securityContext', apply: (o) => rename(o, [...C, 'securityContext', 'capabilities', 'drop'], 'dropp'),
    expect: 'unknown field /spec/template/spec/containers/0/securityContext/capabilities/dropp' },
  { kind: 'DaemonSet', what: 'terminationGracePeriodSeconds as a string', apply: (o) => set(o, ['spec', 'template', 'spec', 'terminationGracePeriodSeconds'], '15'),
    expect: 'terminationGracePeriodSeconds must be integer' },
  { kind: 'DaemonSet', what: 'capabilities.drop as a string', apply: (o) => set(o, [...C, 'securityContext', 'capabilities', 'drop'], 'ALL'),
    expect: 'capabilities/drop must be array' },
  { kind: 'Service', what: 'port as a word', apply: (o) => set(o, ['spec', 'ports', 0, 'port'], 'spop'),
    expect: 'ports/0/port must be integer' },
  { kind: 'NetworkPolicy', what: 'misspelled top-level spec', apply: (o) => rename(o, ['spec'], 'specc'),
    expect: 'unknown field /specc' },
  { kind: 'Namespace', what: 'misspelled metadata.labels', apply: (o) => rename(o, ['metadata', 'labels'], 'labelz'),
    expect: 'unknown field /metadata/labelz' },
  { kind: 'PodMonitor', what: 'misspelled endpoint interval (CRD schema)', apply: (o) => rename(o, ['spec', 'podMetricsEndpoints', 0, 'interval'], 'intervall'),
    expect: 'unknown field /spec/podMetricsEndpoints/0/intervall' },
];

// problems(o): the validation report of <o> as strings.
function problems(o) {
  const res = strictValidate(modelFor(o.apiVersion, o.kind), o);
  return res.errors.concat(res.unknown.map((p) => `unknown field ${p}`));
}

const broken = [];
const checked = new Set();
for (const b of BREAKS) {
  const orig = objects.find((o) => o.kind === b.kind);
  if (!orig) continue;
  if (!checked.has(b.kind)) r.ok(problems(orig).length === 0, `unbroken ${b.kind} is valid`);
  checked.add(b.kind);
  const o = structuredClone(orig);
  b.apply(o);
  const got = problems(o);
  r.ok(got.some((p) => p.includes(b.expect)) && got.length >= 1,
    `${b.kind} with ${b.what} is rejected`, `got [${got.join('; ')}]`);
  broken.push(o);
}
r.ok(broken.length >= 3, `${file}: enough objects to break`, `${broken.length} broken`);
fs.writeFileSync(out, broken.map((o) => YAML.stringify(o)).join('---\n'));
process.exit(r.failed() ? 1 : 0);
