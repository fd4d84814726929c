// Values the global setup hands to test files (see global-setup.ts).
import 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Per-run scratch directory created by the global setup. */
    scratchDir: string;
    /** Per-run busybox rootfs built by the global setup. */
    busyboxRootfs: string;
  }
}
