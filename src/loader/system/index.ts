// Public surface of the system process model: the VFS, the process, and the syscall table.
export { SystemProcess, HOST_RETURN, type SystemProcessOptions, type SystemSnapshot } from './process.js';
export type { LinkMapEntry } from './live-image.js';
export { GUEST_CWD, Vfs, VfsError, type FileSource, type VfsNode } from './vfs.js';
export { SYSCALLS, SYSCALL_AREAS, syscallName } from './syscalls/table.js';
export { vfsFromTar, TarError } from './tar.js';
