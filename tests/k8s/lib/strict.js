'use strict';
// Rejects fields the schema does not define.
//
// kubernetes-models ships its OpenAPI schemas compiled to standalone ajv
// validators (node_modules/kubernetes-models/_schemas/*.js, one module per
// definition, each requiring the modules of the definitions it references);
// the raw JSON schemas are not in the package. Those validators read every
// property their schema declares, recursively through every $ref, and
// iterate the keys of free-form maps (labels, annotations, ConfigMap data,
// resource quantities). So the object is validated through proxies that
// record each key the validator reads: a key present in the manifest that
// the validator never read is one the schema does not define.

// track(value, seen): returns a proxy over <value> (objects and arrays,
// recursively) that adds "<path>" to <seen> for every property read.
function track(value, seen, at = '') {
  if (value === null || typeof value !== 'object') return value;
  const cache = new Map();
  return new Proxy(value, {
    get(target, key, receiver) {
      const v = Reflect.get(target, key, receiver);
      if (typeof key !== 'string' || !Object.prototype.hasOwnProperty.call(target, key)) return v;
      seen.add(`${at}/${key}`);
      if (v === null || typeof v !== 'object') return v;
      if (!cache.has(key)) cache.set(key, track(v, seen, `${at}/${key}`));
      return cache.get(key);
    },
  });
}

// unread(value, seen): lists the paths of the keys of <value> that are not
// in <seen>, without descending below an unread key.
function unread(value, seen, at = '', out = []) {
  if (value === null || typeof value !== 'object') return out;
  for (const key of Object.keys(value)) {
    const p = `${at}/${key}`;
    if (!seen.has(p)) out.push(p);
    else unread(value[key], seen, p, out);
  }
  return out;
}

// strictValidate(Model, obj): runs the model's schema validator over <obj>.
// Returns { errors: [...schema errors], unknown: [...paths of undefined
// fields] }; both empty when the object is valid.
function strictValidate(Model, obj) {
  const result = { errors: [], unknown: [] };
  try {
    new Model(obj).validate();
  } catch (e) {
    result.errors.push(e.message);
  }
  const seen = new Set();
  try {
    // The model's validate() applies the compiled schema to `this`.
    Model.prototype.validate.call(track(obj, seen));
  } catch (e) {
    // Already reported by the plain validation above.
  }
  result.unknown = unread(obj, seen);
  return result;
}

module.exports = { strictValidate, track, unread };
