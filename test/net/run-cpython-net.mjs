#!/usr/bin/env node
// CPython's network regression tests (Debian's libpython3.11-testsuite): test_socket (the classes that
// finish: the whole module does not within 300 s natively, because ThreadedVSOCKSocketStreamTest waits
// forever on this kind of host), test_socketserver, test_selectors and test_asyncio's sub-modules,
// natively and under `tsvisor do --network=MODE`, each with a timeout; prints a pass table as
// test/compat/run-cpython-tests.mjs does (whose helpers it reuses).
//
// Every run happens inside a throwaway network namespace with only lo up (`unshare -n`), natively
// and sandboxed alike: some of these tests resolve names that are not in /etc/hosts (getnameinfo of
// "x", the machine's hostname), and there such lookups fail at once instead of reaching a DNS
// server. Needs root.
//
//   node test/net/run-cpython-net.mjs [--mode host|sandbox|none] [--only native|tsvisor]
//        [--timeout S] [--jobs N] [--logs DIR] [NAME…]
//
// Exit status 0 when everything that passes natively also passes under tsvisor.
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ensureTestsuite, fmtSeconds, parseRunnerArgs, platformArgs, PYTHON, runAll, runCounts, runRegrtest, tsvisorDo,
} from '../compat/run-cpython-tests.mjs';

/** test_socket classes that finish natively (all but ThreadedVSOCKSocketStreamTest). */
export const SOCKET_CLASSES = `BasicBluetoothTest BasicCANTest BasicQIPCRTRTest BasicRDSTest BasicSocketPairTest BasicTCPTest
  BasicTCPTest2 BasicUDPLITETest BasicUDPTest BasicVSOCKTest BufferIOTest CANTest CmsgMacroTests ContextManagersTest
  CreateServerFunctionalTest CreateServerTest FileObjectClassTestCase GeneralModuleTests ISOTPTest InheritanceTest
  InterruptedRecvTimeoutTest InterruptedSendTimeoutTest J1939Test LineBufferedFileObjectClassTestCase LinuxKernelCryptoAPI
  NetworkConnectionAttributesTest NetworkConnectionBehaviourTest NetworkConnectionNoServer NonBlockingTCPTests
  NonblockConstantTest RDSTest RecvmsgIntoRFC3542AncillaryUDP6Test RecvmsgIntoRFC3542AncillaryUDPLITE6Test
  RecvmsgIntoSCMRightsStreamTest RecvmsgIntoSCTPStreamTest RecvmsgIntoTCPTest RecvmsgIntoUDP6Test RecvmsgIntoUDPLITE6Test
  RecvmsgIntoUDPLITETest RecvmsgIntoUDPTest RecvmsgIntoUnixStreamTest RecvmsgRFC3542AncillaryUDP6Test
  RecvmsgRFC3542AncillaryUDPLITE6Test RecvmsgSCMRightsStreamTest RecvmsgSCTPStreamTest RecvmsgTCPTest RecvmsgUDP6Test
  RecvmsgUDPLITE6Test RecvmsgUDPLITETest RecvmsgUDPTest RecvmsgUnixStreamTest SendRecvFdsTests SendfileUsingSendTest
  SendfileUsingSendfileTest SendmsgSCTPStreamTest SendmsgTCPTest SendmsgUDP6Test SendmsgUDPLITE6Test SendmsgUDPLITETest
  SendmsgUDPTest SendmsgUnixStreamTest SmallBufferedFileObjectClassTestCase TCPCloserTest TCPTimeoutTest TIPCTest
  TIPCThreadableTest TestExceptions TestLinuxAbstractNamespace TestMSWindowsTCPFlags TestMacOSTCPFlags TestSocketSharing
  TestUnixDomain UDPLITETimeoutTest UDPTimeoutTest UnbufferedFileObjectClassTestCase UnicodeReadFileObjectClassTestCase
  UnicodeReadWriteFileObjectClassTestCase UnicodeWriteFileObjectClassTestCase`.split(/\s+/).filter(Boolean);

const ASYNCIO = ['base_events', 'buffered_proto', 'context', 'events', 'futures', 'locks', 'pep492', 'protocols',
  'queues', 'runners', 'selector_events', 'sendfile', 'server', 'sock_lowlevel', 'streams', 'subprocess',
  'taskgroups', 'tasks', 'threads', 'timeouts', 'transports', 'unix_events', 'waitfor'];

/**
 * name → regrtest arguments. test_socketserver needs the "network" resource (it uses localhost only).
 * test_asyncio.test_events leaves out its pseudo-terminal tests (/dev/ptmx is another issue's).
 */
export const NET_TESTS = {
  // NetworkConnectionAttributesTest.testSourceAddress races with itself: its client thread registers
  // addCleanup(self.cli.close) and only then calls self.cli.getsockname(), while the main thread, done
  // with accept(), runs the cleanups last-in first-out — the client's close() before the done.wait()
  // that would have waited for it — so getsockname() can meet a closed socket (EBADF). Natively the
  // window is narrow; under any slower scheduling (a sandbox, a loaded machine) it opens. Left out here;
  // test/net/py/loopback.py checks the same create_connection(source_address=…) behaviour race-free.
  test_socket: ['test_socket', ...SOCKET_CLASSES.flatMap((c) => ['-m', c]), '-i', 'testSourceAddress'],
  test_socketserver: ['-u', 'network', 'test_socketserver'],
  test_selectors: ['test_selectors'],
  ...Object.fromEntries(ASYNCIO.map((m) => [`test_asyncio.test_${m}`, [`test.test_asyncio.test_${m}`]])),
  'test_asyncio.test_events': ['-i', '*_pty*', 'test.test_asyncio.test_events'],
};

/**
 * Run one entry of NET_TESTS natively or under tsvisor (in a fresh netns with lo up). Resolves
 * { status: 'pass'|'FAIL'|'TIMEOUT'|'SKIP', code, seconds, output, ran, skippedTests }.
 */
export function runNetTest(name, side, { timeout = 600, mode = 'host', tsvisorArgs = [] } = {}) {
  const py = [PYTHON, '-m', 'test', '-v', ...NET_TESTS[name]];
  const inner = side === 'native' ? py : [...tsvisorDo([...platformArgs(), ...tsvisorArgs]), '--network', mode, '--', ...py];
  const cmd = ['unshare', '-n', '/bin/sh', '-c', 'ip link set lo up && exec "$0" "$@"', ...inner];
  return runRegrtest(cmd, timeout);
}

async function main() {
  const { only, timeout, jobs, logs, tsvisorArgs, names, mode = 'host' } = parseRunnerArgs(process.argv.slice(2), { '--mode': 'mode' });
  for (const a of names) if (!NET_TESTS[a]) throw new Error(`unknown test ${a} (one of ${Object.keys(NET_TESTS).join(' ')})`);
  ensureTestsuite();
  const list = names.length ? names : Object.keys(NET_TESTS);
  const sides = only ? [only] : ['native', 'tsvisor'];
  const byKey = await runAll(list, sides, { jobs, logs, showFailures: true }, (m, s) => runNetTest(m, s, { timeout, mode, tsvisorArgs }));
  console.log(`--network=${mode}\n\n| test | native | tsvisor | native s | tsvisor s | native run/total | tsvisor run/total |`);
  console.log('|---|---|---|---|---|---|---|');
  let regress = 0;
  for (const m of list) {
    const n = byKey[`${m}/native`], t = byKey[`${m}/tsvisor`];
    console.log(`| ${m} | ${n?.status ?? '-'} | ${t?.status ?? '-'} | ${fmtSeconds(n?.seconds)} | ${fmtSeconds(t?.seconds)} | ${runCounts(n)} | ${runCounts(t)} |`);
    if (n?.status === 'pass' && t && t.status !== 'pass') regress++;
  }
  process.exitCode = regress ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => { console.error(e); process.exit(2); });
}
