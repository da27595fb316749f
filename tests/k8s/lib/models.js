'use strict';
// Finds the kubernetes-models class for a manifest's apiVersion and kind.

const path = require('path');

// Packages holding models, by API group. The core group ("v1") and every
// built-in group live in kubernetes-models; CRDs in their own packages.
const GROUP_PACKAGES = {
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
};

// modelFor(apiVersion, kind): returns the model class, or throws an Error
// naming what was looked for when no package defines that kind.
function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    throw new Error('object without a string apiVersion and kind');
  }
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const pkg = GROUP_PACKAGES[group] || 'kubernetes-models';
  const modPath = group ? path.posix.join(pkg, group, version) : path.posix.join(pkg, version);
  let mod;
  try {
    mod = require(modPath);
  } catch (e) {
    throw new Error(`no model package for apiVersion ${apiVersion} (${modPath})`);
  }
  const cls = mod[kind];
  if (typeof cls !== 'function' || cls.apiVersion !== apiVersion || cls.kind !== kind) {
    throw new Error(`no model for ${apiVersion} ${kind}`);
  }
  return cls;
}

module.exports = { modelFor };
