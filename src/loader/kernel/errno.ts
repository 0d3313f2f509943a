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
export const ENOEXEC = 8;
export const ECHILD = 10;
export const ENOTDIR = 20;
export const EISDIR = 21;
export const EMFILE = 24;
export const ENOTTY = 25;
export const ESPIPE = 29;
export const EROFS = 30;
export const EPIPE = 32;
export const ENAMETOOLONG = 36;
export const ENOTEMPTY = 39;
export const ELOOP = 40;
export const ENODATA = 61;
export const EOPNOTSUPP = 95;
export const EXDEV = 18;
export const ENOTSOCK = 88;
export const EPROTONOSUPPORT = 93;
export const EAFNOSUPPORT = 97;
export const EADDRINUSE = 98;
export const EISCONN = 106;
export const ENOTCONN = 107;
export const ECONNREFUSED = 111;

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
  [ENOEXEC]: 'Exec format error',
  [ECHILD]: 'No child processes',
  [ENOTDIR]: 'Not a directory',
  [EISDIR]: 'Is a directory',
  [EMFILE]: 'Too many open files',
  [ENOTTY]: 'Inappropriate ioctl for device',
  [ESPIPE]: 'Illegal seek',
  [EROFS]: 'Read-only file system',
  [EPIPE]: 'Broken pipe',
  [ENAMETOOLONG]: 'File name too long',
  [ENOTEMPTY]: 'Directory not empty',
  [ELOOP]: 'Too many levels of symbolic links',
  [ENODATA]: 'No data available',
  [EOPNOTSUPP]: 'Operation not supported',
  [EXDEV]: 'Invalid cross-device link',
  [ENOTSOCK]: 'Socket operation on non-socket',
  [EPROTONOSUPPORT]: 'Protocol not supported',
  [EAFNOSUPPORT]: 'Address family not supported by protocol',
  [EADDRINUSE]: 'Address already in use',
  [EISCONN]: 'Transport endpoint is already connected',
  [ENOTCONN]: 'Transport endpoint is not connected',
  [ECONNREFUSED]: 'Connection refused',
};

export function strerror(errno: number): string {
  return TEXTS[errno] ?? `Unknown error ${errno}`;
}
