// Linux errno values the emulated kernel and libc stubs return, with glibc's strerror texts.

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ERANGE = 34;
export const ENOSYS = 38;

const TEXTS: Record<number, string> = {
  0: 'Success',
  [EPERM]: 'Operation not permitted',
  [ENOENT]: 'No such file or directory',
  [ESRCH]: 'No such process',
  [EINTR]: 'Interrupted system call',
  [EBADF]: 'Bad file descriptor',
  [EAGAIN]: 'Resource temporarily unavailable',
  [ENOMEM]: 'Cannot allocate memory',
  [EACCES]: 'Permission denied',
  [EFAULT]: 'Bad address',
  [EEXIST]: 'File exists',
  [ENODEV]: 'No such device',
  [EINVAL]: 'Invalid argument',
  [ERANGE]: 'Numerical result out of range',
  [ENOSYS]: 'Function not implemented',
};

export function strerror(errno: number): string {
  return TEXTS[errno] ?? `Unknown error ${errno}`;
}
