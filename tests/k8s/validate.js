'use strict';
// Usage: node validate.js FILE...
// Validates every object of the rendered manifests against the Kubernetes
// OpenAPI schema (kubernetes-models) and rejects fields the schema does not
// define. Prints one "ok"/"not ok" line per object; exits 1 on any failure.

const { modelFor } = require('./lib/models');
const { strictValidate } = require('./lib/strict');
const { loadObjects, objectName } = require('./lib/load');
const { reporter } = require('./lib/report');

const r = reporter();
for (const file of process.argv.slice(2)) {
  let objects;
  try {
    objects = loadObjects(file);
  } catch (e) {
    r.ok(false, `${file} parses`, e.message);
    continue;
  }
  r.ok(objects.length > 0, `${file} holds objects`, 'no object found');
  for (const o of objects) {
    const name = `${file}: ${objectName(o)} matches its schema`;
    let Model;
    try {
      Model = modelFor(o.apiVersion, o.kind);
    } catch (e) {
      r.ok(false, name, e.message);
      continue;
    }
    const res = strictValidate(Model, o);
    const problems = res.errors.concat(res.unknown.map((p) => `unknown field ${p}`));
    r.ok(problems.length === 0, name, problems.join('; '));
  }
}
process.exit(r.failed() ? 1 : 0);
