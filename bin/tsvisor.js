#!/usr/bin/env node
// tsvisor CLI entry point: the compiled TypeScript lives in dist/ (built by `npm install`).

// `tsvisor do` confines itself by re-executing (dist/src/sandbox/confine.js, step 1): do it before the
// CLI and the Sentry are loaded, so that the first process costs only Node's start-up.
const VALUED = new Set(['--platform', '--root', '--log', '--log-format', '--debug-log', '--audit-log', '--network', '--criu', '--rootless']);
function commandWord(args) {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return undefined;
    if (a.startsWith('-')) {
      if (VALUED.has(a)) i++;
      continue;
    }
    return a;
  }
  return undefined;
}
if (commandWord(process.argv.slice(2)) === 'do') {
  const { reexecConfined } = await import('../dist/src/sandbox/confine.js');
  reexecConfined();
}

const { main } = await import('../dist/src/cli/main.js');
main(process.argv).catch((e) => {
  process.stderr.write(`tsvisor: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(125);
});
