'use strict';
// TAP-like result lines shared by the validation scripts.

// reporter(): returns { ok(cond, name, detail), failed() } printing
// "ok - name" or "not ok - name: detail" for each check.
function reporter() {
  let failures = 0;
  return {
    ok(cond, name, detail) {
      if (cond) {
        console.log(`ok - ${name}`);
      } else {
        failures++;
        console.log(`not ok - ${name}${detail ? `: ${detail}` : ''}`);
      }
      return cond;
    },
    failed() {
      return failures;
    },
  };
}

module.exports = { reporter };
