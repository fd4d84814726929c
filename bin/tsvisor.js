#!/usr/bin/env node
// tsvisor CLI entry point: the compiled TypeScript lives in dist/ (built by `npm install`).
import { main } from '../dist/src/cli/main.js';

main(process.argv).catch((e) => {
  process.stderr.write(`tsvisor: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(125);
});
