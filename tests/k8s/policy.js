'use strict';
// Usage: node policy.js [--mirror-service] FILE
// Checks that a rendered set deploys the agent as intended: hardened pod,
// probes on the admin port, read-only config whose listen addresses and
// drain timeout agree with the manifests, node-local Service, NetworkPolicy.
// --mirror-service also requires every mirror URL to name a Service of the
// render, on its port. Prints "ok"/"not ok" lines; exits 1 on any failure.

const { loadObjects } = require('./lib/load');
const { reporter } = require('./lib/report');
const { AGENT, find, agentConfig, splitListen } = require('./lib/agent');

const args = process.argv.slice(2);
const wantMirrorService = args[0] === '--mirror-service';
const file = wantMirrorService ? args[1] : args[0];
const objects = loadObjects(file);
const r = reporter();
const t = (cond, name, detail) => r.ok(Boolean(cond), `${file}: ${name}`, detail);

const ds = find(objects, 'DaemonSet', AGENT);
if (!t(ds, 'has the agent DaemonSet')) process.exit(1);
const pod = ds.spec.template.spec;
const c = pod.containers.find((x) => x.name === AGENT);
if (!t(c, 'DaemonSet has the agent container')) process.exit(1);
const psc = pod.securityContext || {};
const csc = c.securityContext || {};
const eff = (k) => (csc[k] !== undefined ? csc[k] : psc[k]);

const us = ds.spec.updateStrategy || {};
t(us.type === 'RollingUpdate' && us.rollingUpdate && us.rollingUpdate.maxUnavailable !== undefined,
  'RollingUpdate with maxUnavailable', JSON.stringify(us));
t(eff('runAsNonRoot') === true && eff('runAsUser') === 10001 && eff('runAsGroup') === 10001,
  'runs as non-root uid/gid 10001', `runAsNonRoot=${eff('runAsNonRoot')} runAsUser=${eff('runAsUser')}`);
t(csc.readOnlyRootFilesystem === true, 'read-only root filesystem');
t(csc.allowPrivilegeEscalation === false && csc.privileged !== true, 'no privilege escalation');
t(csc.capabilities && (csc.capabilities.drop || []).includes('ALL') && !(csc.capabilities.add || []).length,
  'drops all capabilities and adds none');
t((eff('seccompProfile') || {}).type === 'RuntimeDefault', 'seccompProfile RuntimeDefault');
const res = c.resources || {};
t(['cpu', 'memory'].every((k) => (res.requests || {})[k] && (res.limits || {})[k]),
  'cpu and memory requests and limits', JSON.stringify(res));
t(pod.hostNetwork !== true && !(c.ports || []).some((p) => p.hostPort), 'no host network, no host port');

const portOf = (name) => ((c.ports || []).find((p) => p.name === name) || {}).containerPort;
const probe = (p, path) => p && p.httpGet && p.httpGet.path === path &&
  (p.httpGet.port === 'admin' || p.httpGet.port === portOf('admin'));
t(probe(c.livenessProbe, '/healthz'), 'livenessProbe httpGet /healthz on the admin port');
t(probe(c.readinessProbe, '/readyz'), 'readinessProbe httpGet /readyz on the admin port');

let ac = null;
try {
  ac = agentConfig(objects, ds);
  t(true, `agent config comes from ConfigMap ${ac.name}`);
} catch (e) {
  t(false, 'agent config comes from a ConfigMap of the render', e.message);
}
if (ac) {
  const cfg = ac.config || {};
  t(ac.mount.readOnly === true, 'config mounted read-only');
  const spop = splitListen((cfg.spop || {}).listen || '127.0.0.1:12345');
  const admin = splitListen((cfg.admin || {}).listen || '127.0.0.1:9901');
  t(spop.host === '0.0.0.0' || spop.host === '[::]', 'SPOP listens on every pod address', spop.host);
  t(spop.port === portOf('spop'), 'SPOP listen port is the "spop" containerPort', `${spop.port} vs ${portOf('spop')}`);
  t(admin.host === '0.0.0.0' || admin.host === '[::]', 'admin listens on every pod address', admin.host);
  t(admin.port === portOf('admin'), 'admin listen port is the "admin" containerPort', `${admin.port} vs ${portOf('admin')}`);
  const drain = cfg.drain_timeout_ms === undefined ? 5000 : cfg.drain_timeout_ms;
  const grace = pod.terminationGracePeriodSeconds === undefined ? 30 : pod.terminationGracePeriodSeconds;
  t(grace * 1000 > drain, 'terminationGracePeriodSeconds above drain_timeout_ms', `${grace}s vs ${drain}ms`);
  const threads = (cfg.spop || {}).threads;
  t(Number.isInteger(threads) && threads > 0, 'spop.threads set explicitly (0 would follow the node CPUs)');

  if (wantMirrorService) {
    const mirrors = (cfg.routes || []).flatMap((rt) => rt.mirrors || []);
    t(mirrors.length > 0, 'config has mirrors');
    for (const m of mirrors) {
      const u = /^http:\/\/([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local(?::(\d+))?(\/.*)?$/.exec(m.url);
      const svc = u && objects.find((o) => o.kind === 'Service' && o.metadata.name === u[1] &&
        o.metadata.namespace === u[2]);
      const port = u ? Number(u[3] || 80) : NaN;
      t(svc && svc.spec.ports.some((p) => p.port === port), `mirror ${m.url} is a Service of the render, on its port`);
    }
  }
}

const svc = find(objects, 'Service', AGENT);
if (t(svc, 'has the agent Service')) {
  t(svc.spec.internalTrafficPolicy === 'Local', 'Service internalTrafficPolicy Local');
  const labels = ds.spec.template.metadata.labels || {};
  t(Object.entries(svc.spec.selector || {}).length > 0 &&
    Object.entries(svc.spec.selector).every(([k, v]) => labels[k] === v), 'Service selects the agent pods');
  const sp = (svc.spec.ports || []).find((p) => p.name === 'spop');
  t(sp && (sp.targetPort === 'spop' || sp.targetPort === portOf('spop')), 'Service targets the SPOP port');
  t((svc.spec.ports || []).every((p) => p.name === 'spop'), 'Service exposes the SPOP port only');
}

const np = find(objects, 'NetworkPolicy', AGENT);
if (t(np, 'has the agent NetworkPolicy')) {
  const labels = ds.spec.template.metadata.labels || {};
  const sel = (np.spec.podSelector || {}).matchLabels || {};
  t(Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => labels[k] === v),
    'NetworkPolicy selects the agent pods');
  t((np.spec.policyTypes || []).includes('Ingress'), 'NetworkPolicy restricts ingress');
  const rules = np.spec.ingress || [];
  const isPort = (p, name) => p.port === name || p.port === portOf(name);
  t(rules.every((rl) => (rl.from || []).length > 0 && (rl.ports || []).length > 0),
    'every rule names its sources and ports (no allow-all rule)');
  const spopRules = rules.filter((rl) => (rl.ports || []).some((p) => isPort(p, 'spop')));
  t(spopRules.length > 0 && spopRules.every((rl) => rl.from.every((f) => f.podSelector &&
    Object.keys(f.podSelector.matchLabels || {}).length > 0 && f.namespaceSelector && !f.ipBlock)),
  'SPOP port open only to labelled pods of a selected namespace');
  const adminRules = rules.filter((rl) => (rl.ports || []).some((p) => isPort(p, 'admin')));
  t(adminRules.length > 0 && adminRules.every((rl) => rl.from.every((f) => f.namespaceSelector &&
    Object.keys(f.namespaceSelector.matchLabels || {}).length > 0 && !f.ipBlock)),
  'admin port open only to a selected namespace');
  t(rules.every((rl) => rl.ports.every((p) => isPort(p, 'spop') || isPort(p, 'admin'))),
    'no port other than SPOP and admin is opened');
}

for (const o of objects.filter((x) => ['Deployment', 'DaemonSet'].includes(x.kind))) {
  const cs = o.spec.template.spec.containers;
  t(cs.every((x) => x.resources && x.resources.requests && x.resources.limits),
    `${o.kind} ${o.metadata.name}: every container has requests and limits`);
  t(cs.every((x) => x.securityContext && x.securityContext.allowPrivilegeEscalation === false),
    `${o.kind} ${o.metadata.name}: every container forbids privilege escalation`);
}
process.exit(r.failed() ? 1 : 0);
