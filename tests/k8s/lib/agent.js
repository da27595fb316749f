'use strict';
// Finds the agent's objects in a rendered set and reads its configuration.

const YAML = require('yaml');

const AGENT = 'spoa-shadow';

// find(objects, kind, name): the first object of that kind and name.
function find(objects, kind, name) {
  return objects.find((o) => o.kind === kind && o.metadata && o.metadata.name === name);
}

// agentConfig(objects, ds): { name, file, text, config } of the ConfigMap
// the DaemonSet mounts and the file its "-c" argument names, or throws.
function agentConfig(objects, ds) {
  const pod = ds.spec.template.spec;
  const c = pod.containers.find((x) => x.name === AGENT);
  const args = c.args || [];
  const i = args.indexOf('-c');
  if (i < 0 || i + 1 >= args.length) throw new Error('the container has no "-c FILE" argument');
  const path = args[i + 1];
  const mount = (c.volumeMounts || []).find((m) => path.startsWith(`${m.mountPath.replace(/\/$/, '')}/`));
  if (!mount) throw new Error(`no volume mounted over ${path}`);
  const vol = (pod.volumes || []).find((v) => v.name === mount.name);
  if (!vol || !vol.configMap) throw new Error(`volume ${mount.name} is not a ConfigMap`);
  const cm = find(objects, 'ConfigMap', vol.configMap.name);
  if (!cm) throw new Error(`ConfigMap ${vol.configMap.name} is not in the render`);
  const key = path.slice(mount.mountPath.replace(/\/$/, '').length + 1);
  const text = (cm.data || {})[key];
  if (typeof text !== 'string') throw new Error(`ConfigMap ${cm.metadata.name} has no key ${key}`);
  return { name: cm.metadata.name, key, mount, text, config: YAML.parse(text) };
}

// splitListen("host:port" | "[v6]:port"): { host, port }.
function splitListen(s) {
  const m = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(String(s));
  if (!m) return { host: null, port: NaN };
  return { host: m[1], port: Number(m[2]) };
}

module.exports = { AGENT, find, agentConfig, splitListen };
