'use strict';
// Usage: node extract_config.js RENDERED.yaml OUT.yaml
// Writes the agent configuration that the rendered DaemonSet mounts (the
// ConfigMap entry its "-c" argument names) to OUT.yaml, so the agent itself
// can check it. Exits 1 when it cannot be found.

const fs = require('fs');
const { loadObjects } = require('./lib/load');
const { AGENT, find, agentConfig } = require('./lib/agent');

const [file, out] = process.argv.slice(2);
try {
  const objects = loadObjects(file);
  const ds = find(objects, 'DaemonSet', AGENT);
  if (!ds) throw new Error('no agent DaemonSet');
  fs.writeFileSync(out, agentConfig(objects, ds).text);
} catch (e) {
  console.error(`extract_config: ${file}: ${e.message}`);
  process.exit(1);
}
