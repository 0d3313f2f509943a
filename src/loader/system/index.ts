// Public surface of the system process model: the VFS, the process, and the syscall table.
export { SystemProcess, HOST_RETURN, type SystemProcessOptions, type SystemSnapshot } from './process.js';
export type { LinkMapEntry } from './live-image.js';
export { GUEST_CWD, Vfs, VfsError, type FileSource, type VfsNode } from './vfs.js';
export { SYSCALLS, SYSCALL_AREAS, syscallName } from './syscalls/table.js';
export { Scheduler, DEFAULT_SCHEDULE_SEED, DEFAULT_QUANTUM, type GuestThread, type ThreadState } from './threads.js';
export { viewThreads, type ThreadView } from './thread-view.js';
export { vfsFromTar, isSysrootPath, LIBRARY_DIRECTORIES, TarError, type TarOptions } from './tar.js';
