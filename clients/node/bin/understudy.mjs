#!/usr/bin/env node
// `npx understudy serve …`: runs the understudy binary this package carries (bin/understudy), or
// $UNDERSTUDY_BINARY, with the same arguments, output and exit status.
import { spawn } from 'node:child_process';

import { findBinary } from '../index.mjs';

let binary;
try {
  binary = findBinary();
} catch (error) {
  console.error(`understudy: ${error.message}`);
  process.exit(127);
}
const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (error) => {
  console.error(`understudy: cannot run ${binary}: ${error.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal ? 128 : 1);
});
