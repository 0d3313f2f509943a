// The system model's virtual file system: a tree of directories, symbolic links and files
// whose bytes come from Uint8Array sources (read lazily, so a sysroot of a thousand libraries
// costs only what ld.so opens), plus an in-memory overlay for every write. Path resolution
// is confined to this tree: ".." at the root stays at the root and a symlink's target is
// resolved inside the tree, so nothing outside what was put in can be named, let alone read.

import { EEXIST, EINVAL, EISDIR, ELOOP, ENAMETOOLONG, ENOENT, ENOTDIR, ENOTEMPTY, EROFS } from '../kernel/errno.js';

/** File type bits of st_mode. */
export const S_IFREG = 0o100000, S_IFDIR = 0o040000, S_IFLNK = 0o120000, S_IFCHR = 0o020000;

/** Where a read-only file's bytes come from: given at once (browser) or on first use (CLI). */
export type FileSource = Uint8Array | (() => Uint8Array);

interface NodeBase {
  ino: number;
  /** Permission bits (0o755...). */
  mode: number;
}

export interface FileNode extends NodeBase {
  kind: 'file';
  /** The source; replaced by `data` at the first write (the overlay). */
  source: FileSource;
  /** Bytes of the overlay copy, once written. */
  data?: Uint8Array;
  size: number;
  /** Generated on each open (e.g. /proc/self/maps): not cached. */
  generated?: () => Uint8Array;
}

export interface DirNode extends NodeBase {
  kind: 'dir';
  children: Map<string, VfsNode>;
}

export interface SymlinkNode extends NodeBase {
  kind: 'symlink';
  target: string;
}

/** A character device; its behaviour is the kernel layer's (null, zero, urandom, tty). */
export interface DeviceNode extends NodeBase {
  kind: 'device';
  device: 'null' | 'zero' | 'urandom' | 'tty';
}

export type VfsNode = FileNode | DirNode | SymlinkNode | DeviceNode;

export interface Resolved {
  node: VfsNode;
  /** The canonical absolute path of the node (symlinks and ".." resolved). */
  path: string;
}

/** A resolution that stopped at the last component, for creating it (O_CREAT, mkdir, symlink). */
export interface ResolvedParent {
  dir: DirNode;
  dirPath: string;
  name: string;
  node: VfsNode | undefined;
}

/**
 * A directory mirrored from elsewhere (the CLI's sysroot) and read on demand: one entry by name
 * when a path goes through it, all of them only when the guest lists it. Mirroring a sysroot's
 * thousand library names up front cost a cold start ~20 ms of readdir and readlink.
 */
export interface MirroredDirectory {
  /** The entry called `name`: a file (its bytes read on first use) or a symlink; undefined when absent or not mirrored. */
  entry(name: string): { kind: 'file'; source: FileSource; mode: number } | { kind: 'symlink'; target: string } | undefined;
  /** Every name entry() answers for. */
  names(): Iterable<string>;
}

/** A directory's children filled from a MirroredDirectory on use; what the guest changes stays here. */
class MirroredChildren extends Map<string, VfsNode> {
  /** Names looked up and absent, or removed by the guest: not asked again. */
  private readonly gone = new Set<string>();
  private complete = false;

  constructor(
    private readonly mirror: MirroredDirectory,
    private readonly node: (entry: NonNullable<ReturnType<MirroredDirectory['entry']>>) => VfsNode,
  ) {
    super();
  }

  override get(name: string): VfsNode | undefined {
    const known = super.get(name);
    if (known !== undefined || this.complete || this.gone.has(name)) return known;
    const entry = this.mirror.entry(name);
    if (entry === undefined) {
      this.gone.add(name);
      return undefined;
    }
    const made = this.node(entry);
    super.set(name, made);
    return made;
  }

  override has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  override set(name: string, node: VfsNode): this {
    this.gone.delete(name);
    return super.set(name, node);
  }

  override delete(name: string): boolean {
    const existed = this.get(name) !== undefined;
    this.gone.add(name);
    super.delete(name);
    return existed;
  }

  override get size(): number {
    this.fill();
    return super.size;
  }

  override keys(): MapIterator<string> {
    this.fill();
    return super.keys();
  }

  override values(): MapIterator<VfsNode> {
    this.fill();
    return super.values();
  }

  override entries(): MapIterator<[string, VfsNode]> {
    this.fill();
    return super.entries();
  }

  override [Symbol.iterator](): MapIterator<[string, VfsNode]> {
    return this.entries();
  }

  override forEach(visit: (value: VfsNode, key: string, map: Map<string, VfsNode>) => void, thisArg?: unknown): void {
    this.fill();
    super.forEach(visit, thisArg);
  }

  private fill(): void {
    if (this.complete) return;
    for (const name of this.mirror.names()) this.get(name);
    this.complete = true;
  }
}

/** The guest's working directory in the system model: main and patch.so are ./main and ./patch.so there. */
export const GUEST_CWD = '/app';

const MAX_SYMLINKS = 40;
const PATH_MAX = 4096;

export class VfsError extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
  }
}

/** The overlay at one moment, for the process's snapshots (restore puts every written node back). */
export interface VfsState {
  nextIno: number;
  dirs: Map<DirNode, Map<string, VfsNode>>;
  files: Map<FileNode, { data: Uint8Array | undefined; size: number }>;
}

export class Vfs {
  readonly root: DirNode;
  private nextIno = 2;
  /** Every node the guest changed, with what it held before its first change (restore resets those a snapshot did not see changed). */
  private readonly pristine = new Map<VfsNode, { children?: Map<string, VfsNode>; data?: Uint8Array | undefined; size?: number }>();
  /** Overlay arrays a snapshot holds: a write copies them first. */
  private readonly frozen = new WeakSet<Uint8Array>();

  constructor() {
    this.root = { kind: 'dir', ino: this.ino(), mode: 0o755, children: new Map() };
  }

  private ino(): number {
    return this.nextIno++;
  }

  // ---- building the tree (the host side: CLI, page, tests) ------------------------------

  /** Creates the directories of an absolute path (no symlinks followed) and returns the last. */
  mkdirs(path: string): DirNode {
    let dir = this.root;
    for (const name of components(path)) {
      const child = dir.children.get(name);
      if (child === undefined) {
        const made: DirNode = { kind: 'dir', ino: this.ino(), mode: 0o755, children: new Map() };
        dir.children.set(name, made);
        dir = made;
      } else if (child.kind === 'dir') {
        dir = child;
      } else {
        throw new VfsError(ENOTDIR, `${path}: '${name}' is not a directory in the file system being built`);
      }
    }
    return dir;
  }

  addFile(path: string, source: FileSource, size: number, mode = 0o644): FileNode {
    const { dir, name } = this.parentForBuild(path);
    const node: FileNode = { kind: 'file', ino: this.ino(), mode, source, size };
    dir.children.set(name, node);
    return node;
  }

  addGenerated(path: string, generate: () => Uint8Array): FileNode {
    const { dir, name } = this.parentForBuild(path);
    const node: FileNode = { kind: 'file', ino: this.ino(), mode: 0o444, source: new Uint8Array(0), size: 0, generated: generate };
    dir.children.set(name, node);
    return node;
  }

  addSymlink(path: string, target: string): SymlinkNode {
    const { dir, name } = this.parentForBuild(path);
    const node: SymlinkNode = { kind: 'symlink', ino: this.ino(), mode: 0o777, target };
    dir.children.set(name, node);
    return node;
  }

  /** A directory whose entries come from `mirror` when first named or listed (entries added here before or after are kept). */
  addMirroredDirectory(path: string, mirror: MirroredDirectory): DirNode {
    const dir = this.mkdirs(path);
    const children = new MirroredChildren(mirror, (entry) =>
      entry.kind === 'file'
        ? { kind: 'file', ino: this.ino(), mode: entry.mode, source: entry.source, size: 0 }
        : { kind: 'symlink', ino: this.ino(), mode: 0o777, target: entry.target },
    );
    for (const [name, node] of dir.children) children.set(name, node);
    dir.children = children;
    return dir;
  }

  addDevice(path: string, device: DeviceNode['device']): DeviceNode {
    const { dir, name } = this.parentForBuild(path);
    const node: DeviceNode = { kind: 'device', ino: this.ino(), mode: 0o666, device };
    dir.children.set(name, node);
    return node;
  }

  private parentForBuild(path: string): { dir: DirNode; name: string } {
    const parts = components(path);
    const name = parts.pop();
    if (name === undefined) throw new VfsError(EINVAL, `'${path}' names the root`);
    return { dir: this.mkdirs(`/${parts.join('/')}`), name };
  }

  // ---- the guest side ----------------------------------------------------------------

  /** The bytes of a file node (overlay copy, generated content or its source). */
  contents(node: FileNode): Uint8Array {
    if (node.data) return node.data;
    if (node.generated) return node.generated();
    if (typeof node.source === 'function') {
      const bytes = node.source();
      node.source = bytes;
      node.size = bytes.length;
    }
    return node.source as Uint8Array;
  }

  /** Makes a file writable in the overlay (copy on first write); the source is never touched. */
  overlay(node: FileNode): Uint8Array {
    if (node.generated) throw new VfsError(EROFS, 'generated file');
    this.changing(node);
    if (node.data && this.frozen.has(node.data)) node.data = node.data.slice();
    node.data ??= this.contents(node).slice();
    return node.data;
  }

  setData(node: FileNode, data: Uint8Array): void {
    this.changing(node);
    node.data = data;
    node.size = data.length;
  }

  /** Moves a directory entry (rename(2)): `to` replaces what it named. */
  move(from: ResolvedParent, to: ResolvedParent): void {
    if (!from.node) throw new VfsError(ENOENT, `${from.name}: no such file`);
    this.changing(from.dir);
    this.changing(to.dir);
    from.dir.children.delete(from.name);
    to.dir.children.set(to.name, from.node);
  }

  /** Called before the guest changes a node: its first change records what it held. */
  private changing(node: VfsNode): void {
    if (this.pristine.has(node)) return;
    if (node.kind === 'dir') this.pristine.set(node, { children: new Map(node.children) });
    else if (node.kind === 'file') this.pristine.set(node, { data: node.data, size: node.size });
  }

  // ---- snapshots ------------------------------------------------------------------------

  saveState(): VfsState {
    const dirs = new Map<DirNode, Map<string, VfsNode>>();
    const files = new Map<FileNode, { data: Uint8Array | undefined; size: number }>();
    for (const node of this.pristine.keys()) {
      if (node.kind === 'dir') dirs.set(node, new Map(node.children));
      else if (node.kind === 'file') {
        if (node.data) this.frozen.add(node.data);
        files.set(node, { data: node.data, size: node.size });
      }
    }
    return { nextIno: this.nextIno, dirs, files };
  }

  restoreState(s: VfsState): void {
    for (const [node, before] of this.pristine) {
      if (node.kind === 'dir') {
        const children = s.dirs.get(node) ?? before.children!;
        node.children.clear();
        for (const [name, child] of children) node.children.set(name, child);
      } else if (node.kind === 'file') {
        const saved = s.files.get(node) ?? { data: before.data, size: before.size! };
        // Kept frozen: the same snapshot may be restored again after more writes.
        if (saved.data) this.frozen.add(saved.data);
        node.data = saved.data;
        node.size = saved.size;
      }
    }
    this.nextIno = s.nextIno;
  }

  sizeOf(node: VfsNode): number {
    if (node.kind === 'file') return node.generated ? 0 : this.contents(node).length;
    if (node.kind === 'symlink') return node.target.length;
    if (node.kind === 'dir') return 4096;
    return 0;
  }

  /**
   * Resolves `path` (absolute, or relative to `cwd`) inside the tree. `followLast`: whether a
   * symlink as the last component is followed (stat vs lstat). Throws VfsError with an errno.
   */
  resolve(path: string, cwd: string, followLast = true): Resolved {
    const r = this.walk(path, cwd, followLast, 0);
    if (r.node === undefined) throw new VfsError(ENOENT, `${path}: no such file or directory`);
    return { node: r.node, path: r.nodePath };
  }

  /** Resolves all but the last component, for creating or removing it. */
  resolveParent(path: string, cwd: string): ResolvedParent {
    if (path.length > PATH_MAX) throw new VfsError(ENAMETOOLONG, 'path too long');
    const parts = components(path);
    const name = parts.pop();
    if (name === undefined || name === '.' || name === '..') throw new VfsError(name === undefined ? EEXIST : EINVAL, `${path}: not a name to create`);
    const prefix = (path.startsWith('/') ? '/' : '') + parts.join('/');
    const dirResolved = prefix === '' ? this.resolve('.', cwd) : this.resolve(prefix, cwd);
    if (dirResolved.node.kind !== 'dir') throw new VfsError(ENOTDIR, `${prefix}: not a directory`);
    return { dir: dirResolved.node, dirPath: dirResolved.path, name, node: dirResolved.node.children.get(name) };
  }

  createFile(parent: ResolvedParent, mode: number): FileNode {
    this.changing(parent.dir);
    const node: FileNode = { kind: 'file', ino: this.ino(), mode: mode & 0o7777, source: new Uint8Array(0), data: new Uint8Array(0), size: 0 };
    parent.dir.children.set(parent.name, node);
    return node;
  }

  createDir(parent: ResolvedParent, mode: number): void {
    this.changing(parent.dir);
    if (parent.node) throw new VfsError(EEXIST, `${parent.name}: exists`);
    parent.dir.children.set(parent.name, { kind: 'dir', ino: this.ino(), mode: mode & 0o7777, children: new Map() });
  }

  createSymlink(parent: ResolvedParent, target: string): void {
    this.changing(parent.dir);
    if (parent.node) throw new VfsError(EEXIST, `${parent.name}: exists`);
    parent.dir.children.set(parent.name, { kind: 'symlink', ino: this.ino(), mode: 0o777, target });
  }

  remove(parent: ResolvedParent, directory: boolean): void {
    const node = parent.node;
    if (!node) throw new VfsError(ENOENT, `${parent.name}: no such file`);
    if (directory && node.kind !== 'dir') throw new VfsError(ENOTDIR, `${parent.name}: not a directory`);
    if (!directory && node.kind === 'dir') throw new VfsError(EISDIR, `${parent.name}: is a directory`);
    if (node.kind === 'dir' && node.children.size > 0) throw new VfsError(ENOTEMPTY, `${parent.name}: not empty`);
    this.changing(parent.dir);
    parent.dir.children.delete(parent.name);
  }

  private walk(path: string, cwd: string, followLast: boolean, depth: number): { node: VfsNode | undefined; nodePath: string } {
    if (path.length > PATH_MAX) throw new VfsError(ENAMETOOLONG, 'path too long');
    if (path === '') throw new VfsError(ENOENT, 'empty path');
    const stack: { node: DirNode; name: string }[] = [];
    let dir: DirNode = this.root;
    let hops = depth;
    const enter = (start: string): void => {
      stack.length = 0;
      dir = this.root;
      if (!start.startsWith('/')) {
        for (const name of components(cwd)) {
          const next = dir.children.get(name);
          if (next?.kind !== 'dir') throw new VfsError(ENOENT, `the working directory ${cwd} is gone`);
          stack.push({ node: dir, name });
          dir = next;
        }
      }
    };
    const pathOf = (): string => `/${stack.map((s) => s.name).join('/')}`;
    enter(path);
    const queue = components(path);
    while (queue.length > 0) {
      const name = queue.shift()!;
      if (name === '.') continue;
      if (name === '..') {
        // The root is its own parent, as in a chroot: ".." never leaves the tree.
        const up = stack.pop();
        if (up) dir = up.node;
        continue;
      }
      const child = dir.children.get(name);
      const last = queue.length === 0;
      if (child === undefined) {
        if (last) return { node: undefined, nodePath: `${pathOf()}/${name}`.replace('//', '/') };
        throw new VfsError(ENOENT, `${path}: no such file or directory`);
      }
      if (child.kind === 'symlink' && (!last || followLast)) {
        if (++hops > MAX_SYMLINKS) throw new VfsError(ELOOP, `${path}: too many levels of symbolic links`);
        // Relative targets continue from the link's directory; absolute ones from this tree's root.
        if (child.target.startsWith('/')) enter('/');
        queue.unshift(...components(child.target));
        continue;
      }
      if (last) {
        stack.push({ node: dir, name });
        return { node: child, nodePath: pathOf() };
      }
      if (child.kind !== 'dir') throw new VfsError(ENOTDIR, `${path}: not a directory`);
      stack.push({ node: dir, name });
      dir = child;
    }
    return { node: dir, nodePath: pathOf() };
  }
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '');
}
