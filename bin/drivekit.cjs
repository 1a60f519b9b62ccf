#!/usr/bin/env node
'use strict';
// The CLI runs from the CommonJS build so that `npx drivekit` works without a loader.
const { main } = require('../dist/cjs/cli/main.js');
main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.stderr.write(`drivekit: ${err && err.message ? err.message : err}\n`); process.exitCode = 1; },
);
