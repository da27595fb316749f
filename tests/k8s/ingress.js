'use strict';
// Usage: node ingress.js ROOT INGRESS_RENDER AGENT_RENDER OUTDIR
// Checks the ingress controller wiring in k8s/ingress: for each Helm values
// example, the SPOE file it mounts is haproxy-conf/mirror.spoe.conf at the
// path its "filter spoe" line names, the sections it adds are those of
// haproxy-aux.cfg, the SPOE backend is defined there and points at the
// agent Service of the render. Writes, per controller, OUTDIR/<name>/
// haproxy.cfg, aux.cfg and mirror.spoe.conf for `haproxy -c` (server
// addresses left unresolved: "init-addr none", so the check sends no DNS
// query). Prints "ok"/"not ok" lines; exits 1 on any failure.

const fs = require('fs');
const path = require('path');
const YAML = require('yaml');
const { loadObjects } = require('./lib/load');
const { reporter } = require('./lib/report');

const [root, ingressRender, agentRender, outDir] = process.argv.slice(2);
const r = reporter();
const spoe = fs.readFileSync(path.join(root, 'haproxy-conf/mirror.spoe.conf'), 'utf8');
const auxFile = fs.readFileSync(path.join(root, 'k8s/ingress/haproxy-aux.cfg'), 'utf8');
const ingressObjs = loadObjects(ingressRender);
const agentObjs = loadObjects(agentRender);

// The directives of an HAProxy snippet: comments and blank lines dropped,
// spaces normalized.
const directives = (s) => s.split('\n').map((l) => l.replace(/#.*/, '').trim().replace(/\s+/g, ' ')).filter(Boolean);
const same = (a, b) => JSON.stringify(directives(a)) === JSON.stringify(directives(b));

const spoeCm = ingressObjs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'spoa-shadow-spoe');
const auxCm = ingressObjs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'spoa-shadow-haproxy-aux');
r.ok(spoeCm && spoeCm.data['mirror.spoe.conf'] === spoe, 'k8s/ingress: ConfigMap spoa-shadow-spoe holds haproxy-conf/mirror.spoe.conf as is');
r.ok(auxCm && auxCm.data['haproxy-aux.cfg'] === auxFile, 'k8s/ingress: ConfigMap spoa-shadow-haproxy-aux holds haproxy-aux.cfg');

const svc = agentObjs.find((o) => o.kind === 'Service' && o.metadata.name === 'spoa-shadow');
const port = svc && (svc.spec.ports.find((p) => p.name === 'spop') || {}).port;
const agentAddr = svc && `${svc.metadata.name}.${svc.metadata.namespace}.svc.cluster.local:${port}`;

// Where each chart puts the snippets and the SPOE file.
const CONTROLLERS = [
  {
    name: 'haproxytech', file: 'values-haproxytech.yaml',
    frontend: (v) => v.controller.config['frontend-config-snippet'],
    sections: (v) => v.controller.auxiliaryConfig,
    // The SPOE file comes from a mounted ConfigMap.
    spoeAt: (v, p) => {
      const m = (v.controller.extraVolumeMounts || []).find((x) => p.startsWith(`${x.mountPath.replace(/\/$/, '')}/`));
      const vol = m && (v.controller.extraVolumes || []).find((x) => x.name === m.name);
      const cm = vol && vol.configMap && ingressObjs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === vol.configMap.name);
      return cm && (cm.data || {})[path.posix.basename(p)];
    },
  },
  {
    name: 'haproxy-ingress', file: 'values-haproxy-ingress.yaml',
    frontend: (v) => v.controller.config['config-frontend'],
    sections: (v) => v.controller.config['config-sections'],
    // customFiles become /etc/haproxy-custom-files/<key>.
    spoeAt: (v, p) => (path.posix.dirname(p) === '/etc/haproxy-custom-files' ? (v.controller.customFiles || {})[path.posix.basename(p)] : undefined),
  },
];

for (const c of CONTROLLERS) {
  const v = YAML.parse(fs.readFileSync(path.join(root, 'k8s/ingress', c.file), 'utf8'));
  const fe = c.frontend(v) || '';
  const sections = c.sections(v) || '';
  const filter = /^\s*filter spoe engine (\S+) config (\S+)\s*$/m.exec(fe);
  if (!r.ok(filter, `${c.name}: frontend snippet has a "filter spoe" line`)) continue;
  r.ok(/^\s*option http-buffer-request\s*$/m.test(fe), `${c.name}: frontend snippet buffers the request body`);
  const mounted = c.spoeAt(v, filter[2]);
  r.ok(mounted === spoe, `${c.name}: ${filter[2]} is haproxy-conf/mirror.spoe.conf`);
  r.ok(new RegExp(`^\\[${filter[1]}\\]`, 'm').test(spoe), `${c.name}: engine "${filter[1]}" is a scope of the SPOE file`);
  r.ok(same(sections, auxFile), `${c.name}: added sections are those of k8s/ingress/haproxy-aux.cfg`);
  const useBackend = (/^\s*use-backend (\S+)/m.exec(spoe) || [])[1];
  r.ok(useBackend && new RegExp(`^backend ${useBackend}\\s*$`, 'm').test(sections),
    `${c.name}: the SPOE backend "${useBackend}" is defined`);
  const server = (/^\s*server \S+ (\S+)/m.exec(sections) || [])[1];
  r.ok(server && server === agentAddr, `${c.name}: the backend's server is the agent Service ${agentAddr}`, `got ${server}`);

  const dir = path.join(outDir, c.name);
  fs.mkdirSync(dir, { recursive: true });
  const spoePath = path.join(dir, 'mirror.spoe.conf');
  fs.writeFileSync(spoePath, mounted || '');
  fs.writeFileSync(path.join(dir, 'aux.cfg'), sections.replace(/init-addr \S+/g, 'init-addr none'));
  fs.writeFileSync(path.join(dir, 'haproxy.cfg'), [
    'global', '    log stdout format raw local0',
    'defaults', '    mode http', '    timeout connect 5s', '    timeout client 30s', '    timeout server 30s',
    'frontend http', '    bind 127.0.0.1:8080',
    ...fe.replace(filter[2], spoePath).split('\n').filter((l) => l.trim()).map((l) => `    ${l.trim()}`),
    '    default_backend app',
    'backend app', '    server app1 127.0.0.1:8000 init-addr none', '',
  ].join('\n'));
}
process.exit(r.failed() ? 1 : 0);
