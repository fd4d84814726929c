// readahead, sync_file_range, process_vm_readv/writev; see c/io.c.
import { conformanceFamily } from './family.ts';

conformanceFamily('io', { static: true });
