/**
 * `tsvisor install` / `uninstall`: register the runtime in Docker's daemon.json (like `runsc install`),
 * keeping every other key, idempotent, with a backup of the previous file; and the containerd /
 * Kubernetes snippets to print.
 */
import { copyFileSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export interface InstallOptions {
  /** daemon.json to edit (default /etc/docker/daemon.json). */
  config: string;
  /** Runtime name (default "tsvisor"). */
  runtime: string;
  /** Absolute path of the tsvisor executable Docker should run. */
  binary: string;
  /** Extra runtime arguments (e.g. --platform=kvm). */
  args: string[];
}

type Json = Record<string, unknown>;

function readConfig(file: string): Json {
  if (!existsSync(file)) return {};
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '') return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${e instanceof Error ? e.message : String(e)}); not changed`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${file}: the top level must be an object; not changed`);
  return v as Json;
}

/** Write `cfg` atomically after copying the previous file to `<file>.bak` (if any). */
function writeConfig(file: string, cfg: Json): void {
  if (existsSync(file)) copyFileSync(file, `${file}.bak`);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tsvisor-tmp`);
  writeFileSync(tmp, JSON.stringify(cfg, null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, file);
}

/** Add (or update) the runtime entry. Returns false if the file already said exactly that. */
export function install(o: InstallOptions): boolean {
  const cfg = readConfig(o.config);
  const runtimes = (typeof cfg.runtimes === 'object' && cfg.runtimes !== null ? cfg.runtimes : {}) as Json;
  const entry: Json = { path: o.binary, ...(o.args.length ? { runtimeArgs: o.args } : {}) };
  if (JSON.stringify(runtimes[o.runtime]) === JSON.stringify(entry)) return false;
  cfg.runtimes = { ...runtimes, [o.runtime]: entry };
  writeConfig(o.config, cfg);
  return true;
}

/** Remove the runtime entry. Returns false if there was none. */
export function uninstall(o: Pick<InstallOptions, 'config' | 'runtime'>): boolean {
  const cfg = readConfig(o.config);
  const runtimes = (typeof cfg.runtimes === 'object' && cfg.runtimes !== null ? cfg.runtimes : {}) as Json;
  if (!(o.runtime in runtimes)) return false;
  const { [o.runtime]: _removed, ...rest } = runtimes;
  if (Object.keys(rest).length) cfg.runtimes = rest;
  else delete cfg.runtimes;
  writeConfig(o.config, cfg);
  return true;
}

/** The containerd (CRI) runtime section and the Kubernetes RuntimeClass for `runtime` at `binary`. */
export function snippets(runtime: string, binary: string): string {
  return `# containerd config.toml (CRI, runc shim running tsvisor):
version = 2
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${runtime}]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.${runtime}.options]
    BinaryName = "${binary}"

# Kubernetes RuntimeClass (pods set spec.runtimeClassName: ${runtime}):
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata:
  name: ${runtime}
handler: ${runtime}
`;
}
