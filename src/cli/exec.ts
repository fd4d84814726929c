/**
 * `exec [--process FILE] [--console-socket S] [-d|--detach] [--pid-file F] [-t] [--cwd D] [-e K=V]… [-u UID[:GID]] ID [CMD ARGS…]`
 */
import type { Command } from 'commander';
import { ociAction } from './common.js';
import { exec, execTarget, readProcessFile, type ExecProcess } from '../runtime/lifecycle.js';

export function register(program: Command): void {
  program
    .command('exec')
    .description('run another process in a running container')
    .option('-p, --process <file>', 'OCI process JSON (instead of a command line)')
    .option('--console-socket <path>', 'unix socket that receives the pty master')
    .option('-d, --detach', 'return once the process started (its host representative keeps running)')
    .option('--pid-file <file>', 'write the host pid of the process\'s representative here')
    .option('-t, --tty', 'allocate a pty')
    .option('--cwd <dir>', 'working directory')
    .option('-e, --env <kv>', 'extra environment variable (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('-u, --user <uid[:gid]>', 'user and group ids')
    .option('--no-new-privs', 'accepted for runc compatibility')
    .argument('<id>', 'container id')
    .argument('[cmd...]', 'command and arguments')
    .passThroughOptions()
    .action(ociAction(program, async (ctx, id: string, cmd: string[], o: {
      process?: string; consoleSocket?: string; detach?: boolean; pidFile?: string; tty?: boolean; cwd?: string; env: string[]; user?: string;
    }) => {
      const { cfg } = execTarget(ctx, id);
      let proc: ExecProcess;
      if (o.process) {
        proc = readProcessFile(o.process, cfg.process);
      } else {
        if (cmd.length === 0) throw new Error('exec: a command or --process is required');
        const env = [...cfg.process.env];
        for (const kv of o.env) {
          const k = kv.split('=')[0];
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = kv;
          else env.push(kv);
        }
        let uid = cfg.process.uid;
        let gid = cfg.process.gid;
        if (o.user) {
          const [u, g] = o.user.split(':');
          uid = Number(u);
          gid = g !== undefined ? Number(g) : gid;
          if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`invalid --user ${o.user}`);
        }
        // As runc exec: the container's capabilities, no_new_privs and rlimits.
        const { capabilities, noNewPrivs, rlimits } = cfg.process;
        proc = { argv: cmd, env, cwd: o.cwd ?? cfg.process.cwd, uid, gid, groups: cfg.process.additionalGids, terminal: o.tty ?? false, capabilities, noNewPrivs, rlimits };
      }
      const code = await exec(ctx, id, proc, { consoleSocket: o.consoleSocket, detach: o.detach ?? false, pidFile: o.pidFile });
      process.exit(code ?? 0);
    }));
}
