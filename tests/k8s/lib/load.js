'use strict';
// Reads rendered multi-document YAML into plain objects.

const fs = require('fs');
const YAML = require('yaml');

// loadObjects(file): returns the non-empty documents of <file> as plain
// objects; throws on a YAML syntax error.
function loadObjects(file) {
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, 'utf8'));
  const out = [];
  for (const d of docs) {
    if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
    const o = d.toJS();
    if (o !== null && o !== undefined) out.push(o);
  }
  return out;
}

// objectName(o): "Kind namespace/name" for messages.
function objectName(o) {
  const m = o.metadata || {};
  return `${o.kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name}`;
}

module.exports = { loadObjects, objectName };
