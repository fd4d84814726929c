#!/usr/bin/env node
// tsvisor CLI entry point: the compiled TypeScript lives in dist/ (built by `npm install`).

// `tsvisor do` confines itself (dist/src/sandbox/confine.js, step 1: the Sentry starts again as a
// confined child and this process stays as its host stand-in): do it before the CLI and the Sentry
// are loaded, so that the stand-in costs only Node's start-up.
const { commandWord } = await import('../dist/src/cli/globals.js');
if (commandWord(process.argv.slice(2)) === 'do') {
  const { reexecConfined } = await import('../dist/src/sandbox/confine.js');
  reexecConfined();
}

const { main } = await import('../dist/src/cli/main.js');
main(process.argv).catch((e) => {
  process.stderr.write(`tsvisor: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(125);
});
